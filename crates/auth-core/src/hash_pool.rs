//! Runs password hashing off the async executor, a bounded number at a time.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::{HashError, Password, PasswordHash, PasswordHasher};

/// Each bcrypt call keeps a core busy for a quarter of a second. Run on the
/// async executor it would stall every other request on that worker; run on
/// unbounded blocking threads, a login flood would start hundreds at once and
/// starve the rest of the site of CPU. So hashing happens on tokio's blocking
/// threads, with a semaphore letting only `limit` run at once; the rest wait
/// in line (tokio's semaphore is fair: first come, first served). Clones
/// share the hasher and the limit.
#[derive(Clone)]
pub(crate) struct HashPool {
    hasher: Arc<dyn PasswordHasher>,
    permits: Arc<Semaphore>,
}

impl HashPool {
    pub(crate) fn new(hasher: Arc<dyn PasswordHasher>, limit: usize) -> Self {
        Self {
            hasher,
            permits: Arc::new(Semaphore::new(limit.max(1))),
        }
    }

    pub(crate) async fn hash(&self, password: Password) -> Result<PasswordHash, HashError> {
        let hasher = Arc::clone(&self.hasher);
        self.run(move || hasher.hash(&password)).await
    }

    pub(crate) async fn verify(
        &self,
        password: Password,
        hash: PasswordHash,
    ) -> Result<bool, HashError> {
        let hasher = Arc::clone(&self.hasher);
        self.run(move || hasher.verify(&password, &hash)).await
    }

    pub(crate) fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        self.hasher.needs_rehash(hash)
    }

    pub(crate) fn can_verify(&self, hash: &PasswordHash) -> bool {
        self.hasher.can_verify(hash)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(HashError::new)?;
        // The permit moves into the blocking job, so it is released when the
        // hash is done, even if the request that asked for it has gone away.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(HashError::new)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Records the most hashes it ever saw running at once.
    struct Gauge {
        running: AtomicUsize,
        peak: AtomicUsize,
    }

    impl PasswordHasher for Gauge {
        fn hash(&self, _: &Password) -> Result<PasswordHash, HashError> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(20));
            self.running.fetch_sub(1, Ordering::SeqCst);
            Ok(PasswordHash::new(String::new()))
        }

        fn verify(&self, _: &Password, _: &PasswordHash) -> Result<bool, HashError> {
            Ok(false)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_runs_more_than_the_limit_at_once() {
        let gauge = Arc::new(Gauge {
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        });
        let pool = Arc::new(HashPool::new(gauge.clone(), 2));
        let jobs: Vec<_> = (0..12)
            .map(|_| {
                let pool = Arc::clone(&pool);
                tokio::spawn(async move { pool.hash(Password::normalize("x")).await })
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert_eq!(gauge.peak.load(Ordering::SeqCst), 2);
    }

    /// On a current-thread runtime every async task runs on the test's own
    /// thread, so a hash that ran "on the executor" would report that thread.
    #[tokio::test(flavor = "current_thread")]
    async fn hashing_does_not_run_on_the_executor() {
        struct WhichThread(std::sync::Mutex<Option<std::thread::ThreadId>>);
        impl PasswordHasher for WhichThread {
            fn hash(&self, _: &Password) -> Result<PasswordHash, HashError> {
                *self.0.lock().unwrap() = Some(std::thread::current().id());
                Ok(PasswordHash::new(String::new()))
            }
            fn verify(&self, _: &Password, _: &PasswordHash) -> Result<bool, HashError> {
                Ok(false)
            }
        }
        let probe = Arc::new(WhichThread(std::sync::Mutex::new(None)));
        let pool = HashPool::new(probe.clone(), 1);
        pool.hash(Password::normalize("x")).await.unwrap();
        let hashed_on = probe.0.lock().unwrap().expect("the hasher ran");
        assert_ne!(hashed_on, std::thread::current().id());
    }
}
