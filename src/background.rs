//! Background threads give way to request threads.
//!
//! On two cores the index's segment flushes and merges (tens of ms each, several a second under
//! steady intake) ran beside the requests at the same priority and took their turns: a create
//! that needs 2–3 ms of CPU waited behind them. Work that only has to keep up (indexing,
//! merging, checkpointing, alert delivery) runs at a lower priority, and still gets the CPU the
//! requests leave idle.

/// How much lower than the process's own priority background threads run (in nice steps: 0
/// to 19; each step is about 10 % less CPU under contention).
const NICER: i32 = 10;

/// Lowers the calling thread's priority by [`NICER`]; threads it starts afterwards inherit it.
/// Where the platform says no, the thread runs on as it is: this is an optimisation.
pub fn lower_priority() {
    // On Linux the nice value is per thread, and `setpriority(PRIO_PROCESS, 0)` sets the
    // calling thread's.
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let lowered = getpriority_process(None)
            .and_then(|now| setpriority_process(None, (now + NICER).min(19)));
        if let Err(e) = lowered {
            tracing::debug!(error = %e, "cannot lower a background thread's priority");
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use rustix::process::getpriority_process;

    use super::*;

    #[test]
    fn a_thread_lowers_its_own_priority_and_its_children_inherit_it() {
        let own = getpriority_process(None).unwrap();
        let lowered = (own + NICER).min(19);
        std::thread::spawn(move || {
            lower_priority();
            assert_eq!(getpriority_process(None).unwrap(), lowered);
            let child = std::thread::spawn(|| getpriority_process(None).unwrap());
            assert_eq!(child.join().unwrap(), lowered);
        })
        .join()
        .unwrap();
        // The other threads keep theirs.
        assert_eq!(getpriority_process(None).unwrap(), own);
    }
}
