//! The exported conformance suite, run through its public entry point
//! against a real SQLite file per check and against the in-memory store.
//! (PostgreSQL runs it from the workspace's root tests, where the database
//! for the run is set up.)

use auth_core::memory::MemoryStore;
use auth_store::{PoolOptions, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    auth_store::testkit::run("sqlite", || {
        n += 1;
        let url = format!("sqlite://{}/check-{n}.db", dir.path().display());
        async move {
            let store = Store::connect(&url, &PoolOptions::default()).await.unwrap();
            store.migrate().await.unwrap();
            assert_eq!(store.backend(), "sqlite");
            store
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    auth_store::testkit::run("memory", || async { MemoryStore::new() }).await;
}
