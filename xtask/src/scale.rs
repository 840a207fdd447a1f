//! Filling the database to production size, and the plans of the queries on
//! every request's path.

use auth_core::time::OffsetDateTime;
use auth_store::{sql, PoolOptions, Store};

/// Adds `rows` accounts and as many live sessions straight in SQL (one
/// shared password hash: only the lookups are being measured).
pub async fn seed(
    database_url: &str,
    rows: u64,
    hash: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::connect(database_url, &PoolOptions::default()).await?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let later = now + 12 * 3600;
    let rows = i64::try_from(rows)?;
    match &store {
        Store::Sqlite(s) => {
            let pool = s.pool();
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
                 INSERT INTO users (email, name, password_hash, created_at) \
                 SELECT 'seed' || i || '@example.com', 'Seed ' || i, $2, $3 FROM n",
            )
            .bind(rows)
            .bind(hash)
            .bind(now)
            .execute(pool)
            .await?;
            sqlx::query(
                "INSERT INTO sessions (token_digest, user_id, created_at, last_seen_at, expires_at) \
                 SELECT randomblob(32), id, $1, $1, $2 FROM users WHERE email LIKE 'seed%'",
            )
            .bind(now)
            .bind(later)
            .execute(pool)
            .await?;
            sqlx::query("ANALYZE").execute(pool).await?;
            // A database that grew to this size did so through many small
            // writes, each followed by SQLite's automatic checkpoints; a bulk
            // load leaves its pages in the WAL instead. Merge them.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await?;
        }
        Store::Postgres(s) => {
            let pool = s.pool();
            sqlx::query(
                "INSERT INTO users (email, name, password_hash, created_at) \
                 SELECT 'seed' || i || '@example.com', 'Seed ' || i, $2, $3 \
                 FROM generate_series(1, $1) AS i",
            )
            .bind(rows)
            .bind(hash)
            .bind(now)
            .execute(pool)
            .await?;
            sqlx::query(
                "INSERT INTO sessions (token_digest, user_id, created_at, last_seen_at, expires_at) \
                 SELECT decode(md5(id::text || 'a') || md5(id::text || 'b'), 'hex'), id, $1, $1, $2 \
                 FROM users WHERE email LIKE 'seed%'",
            )
            .bind(now)
            .bind(later)
            .execute(pool)
            .await?;
            sqlx::query("ANALYZE").execute(pool).await?;
        }
        _ => return Err("unknown backend".into()),
    }
    store.close().await;
    Ok(())
}

/// `EXPLAIN` (PostgreSQL) or `EXPLAIN QUERY PLAN` (SQLite) of the statements
/// a page view and a login run, as (name, plan) pairs.
pub async fn plans(
    database_url: &str,
) -> Result<Vec<(&'static str, String)>, Box<dyn std::error::Error>> {
    let store = Store::connect(database_url, &PoolOptions::default()).await?;
    let digest = vec![7u8; 32];
    let mut plans = Vec::new();
    macro_rules! explain {
        ($name:expr, $sql:expr, $($bind:expr),*) => {{
            let plan = match &store {
                Store::Sqlite(s) => {
                    let rows: Vec<(i64, i64, i64, String)> =
                        sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", $sql))
                            $(.bind($bind))*
                            .fetch_all(s.pool())
                            .await?;
                    rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
                }
                Store::Postgres(s) => {
                    let rows: Vec<(String,)> = sqlx::query_as(&format!("EXPLAIN {}", $sql))
                        $(.bind($bind))*
                        .fetch_all(s.pool())
                        .await?;
                    rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
                }
                _ => String::new(),
            };
            plans.push(($name, plan));
        }};
    }
    explain!(
        "session lookup (every page with a session)",
        sql::SELECT_SESSION,
        digest.clone()
    );
    explain!(
        "touch (once a minute per session)",
        sql::TOUCH_SESSION,
        0_i64,
        digest.clone()
    );
    explain!(
        "credentials by email (login)",
        sql::SELECT_CREDENTIALS,
        "seed1@example.com"
    );
    explain!(
        "throttle record (login)",
        sql::SELECT_THROTTLE,
        digest.clone()
    );
    explain!(
        "sessions of a user (account page)",
        sql::SELECT_USER_SESSIONS,
        1_i64
    );
    explain!(
        "purge, ended sessions (every 10 minutes)",
        sql::DELETE_ENDED_SESSIONS,
        0_i64
    );
    explain!(
        "purge, idle sessions (every 10 minutes)",
        sql::DELETE_IDLE_SESSIONS,
        0_i64
    );
    store.close().await;
    Ok(plans)
}
