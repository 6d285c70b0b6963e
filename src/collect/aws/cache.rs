//! A per-key async once-cell: concurrent askers of one key share a single computation, and its
//! answer (an error too) is kept for the life of the map.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub(super) struct OnceMap<V> {
    cells: Mutex<HashMap<String, Arc<OnceCell<V>>>>,
}

impl<V> Default for OnceMap<V> {
    fn default() -> Self {
        OnceMap {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> OnceMap<V> {
    /// The value of `key`, computed by `init` the first time.
    pub(super) async fn get_or_init<F, Fut>(&self, key: &str, init: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = {
            let mut cells = self
                .cells
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(cells.entry(key.to_string()).or_default())
        };
        cell.get_or_init(init).await.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn computes_each_key_once_even_concurrently() {
        let map: OnceMap<usize> = OnceMap::default();
        let runs = AtomicUsize::new(0);
        let init = || async {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            7
        };
        let (a, b) = tokio::join!(map.get_or_init("k", init), map.get_or_init("k", init));
        assert_eq!((a, b), (7, 7));
        assert_eq!(map.get_or_init("k", || async { 8 }).await, 7);
        assert_eq!(map.get_or_init("other", || async { 9 }).await, 9);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
