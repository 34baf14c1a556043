//! Bounded inference concurrency: a few requests run the model at once, a bounded number wait,
//! and past that the answer is 503 with `Retry-After`: never an unbounded queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;

/// Longest wait for a slot before giving up with 503.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// The gate.
pub struct InferenceGate {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    capacity: usize,
}

impl InferenceGate {
    /// `running` at once, `waiting` more in line.
    pub fn new(running: usize, waiting: usize) -> Self {
        InferenceGate {
            slots: Arc::new(Semaphore::new(running)),
            waiting: AtomicUsize::new(0),
            max_waiting: waiting,
            capacity: running,
        }
    }

    /// A slot, or 503 when the line is full or the wait too long.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(p) = Arc::clone(&self.slots).try_acquire_owned() {
            return Ok(p);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::overloaded(
                "the model is saturated and the wait line is full; retry after a second",
            ));
        }
        // Leaves the line on every path, also when the client goes away and this future is
        // dropped mid-wait: a counter decremented only after the await would leak, and the
        // line would fill with ghosts until every request got 503.
        let _in_line = InLine(&self.waiting);
        let permit = tokio::time::timeout(MAX_WAIT, Arc::clone(&self.slots).acquire_owned()).await;
        match permit {
            Ok(Ok(p)) => Ok(p),
            _ => Err(ApiError::overloaded(
                "no model slot came free in time; retry after a second",
            )),
        }
    }

    /// Requests waiting for a slot.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Requests running the model.
    pub fn running(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }
}

/// A place in the wait line, given up on drop.
struct InLine<'a>(&'a AtomicUsize);

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_dropped_while_waiting_leaves_the_line() {
        let gate = Arc::new(InferenceGate::new(1, 1));
        let held = gate.enter().await.expect("the free slot");
        let waiter = {
            let gate = Arc::clone(&gate);
            tokio::spawn(async move { gate.enter().await.map(drop) })
        };
        while gate.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        // The client hangs up: its request future is dropped while in line.
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(gate.waiting(), 0);
        drop(held);
        // The line is usable again: a new request gets the slot.
        assert!(gate.enter().await.is_ok());
    }
}
