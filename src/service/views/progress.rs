//! Progress of a view rebuilt at start, in the log: at a million cases a rebuild takes tens of
//! seconds, and an operator watching a restart should see it move, not a silent process.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a rebuild says how far it is.
const EVERY: Duration = Duration::from_secs(5);

/// One rebuild's progress.
#[derive(Debug)]
pub struct Progress {
    what: &'static str,
    total: u64,
    started: Instant,
    state: Mutex<(u64, Instant)>,
}

impl Progress {
    /// A rebuild of `what` over `total` cases, starting now.
    pub fn new(what: &'static str, total: u64) -> Self {
        let now = Instant::now();
        Progress {
            what,
            total,
            started: now,
            state: Mutex::new((0, now)),
        }
    }

    /// `n` more cases done; logs at most every few seconds.
    pub fn advance(&self, n: u64) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0 += n;
        if state.1.elapsed() >= EVERY {
            state.1 = Instant::now();
            tracing::info!(
                done = state.0,
                of = self.total,
                secs = self.started.elapsed().as_secs(),
                "rebuilding the {}",
                self.what
            );
        }
    }

    /// Logs the end of the rebuild (when there was anything to rebuild).
    pub fn finish(&self) {
        let done = self.state.lock().unwrap_or_else(|p| p.into_inner()).0;
        if done > 0 {
            tracing::info!(
                cases = done,
                secs = format!("{:.1}", self.started.elapsed().as_secs_f64()),
                "rebuilt the {}",
                self.what
            );
        }
    }

    /// Cases done so far.
    pub fn done(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_it_is_told() {
        let p = Progress::new("work queues", 10);
        p.advance(4);
        p.advance(6);
        assert_eq!(p.done(), 10);
        p.finish();
    }
}
