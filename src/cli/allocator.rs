//! The allocator's settings.
//!
//! Its purge delay: how long mimalloc keeps memory that requests freed before it gives it back
//! to the system. Its default (10 ms, then longer for whole arenas) left 100–160 MB of
//! anonymous memory held after a burst of searches at a million cases; 0 returns it at once.
//!
//! Transparent huge pages: memory given back and taken again is faulted in anew, and with huge
//! pages each fault zeroes 2 MiB, however little of it a request uses (7 % of the CPU under
//! searches at a million cases, perf). Off by default, for the process only.
//!
//! One of the two places of the project with `unsafe` (with `closed_pipe.rs`): two FFI calls
//! with integer arguments.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_long};

// Linked by the `mimalloc` crate (libmimalloc-sys builds mimalloc v3); its Rust bindings do
// not name this option, so it is declared here.
unsafe extern "C" {
    fn mi_option_get(option: c_int) -> c_long;
    fn mi_option_set(option: c_int, value: c_long);
}

/// `mi_option_purge_delay` in v3's `mi_option_t` (include/mimalloc.h). A test checks it is
/// the option `MIMALLOC_PURGE_DELAY` sets.
const PURGE_DELAY: c_int = 15;

/// The allocator's environment switch, which wins over the configuration.
const PURGE_DELAY_ENV: &str = "MIMALLOC_PURGE_DELAY";

/// Sets the purge delay to `ms` (`[memory] allocator_purge_delay_ms`) unless the environment
/// set it; returns the delay in effect.
pub fn set_purge_delay(ms: i64) -> i64 {
    if std::env::var_os(PURGE_DELAY_ENV).is_none() {
        // SAFETY: mimalloc's options are plain integers it reads atomically; setting one at
        // any time is allowed.
        unsafe { mi_option_set(PURGE_DELAY, ms as c_long) };
    }
    purge_delay()
}

/// The purge delay in effect, in milliseconds.
pub fn purge_delay() -> i64 {
    // SAFETY: reading an option has no precondition.
    unsafe { mi_option_get(PURGE_DELAY) as i64 }
}

/// The allocator's environment switch for huge pages, which wins over the configuration.
const HUGE_PAGES_ENV: &str = "MIMALLOC_ALLOW_THP";

/// Allows or forbids transparent huge pages for this process (`[memory]
/// transparent_huge_pages`) unless the environment chose; returns whether they are allowed.
pub fn set_transparent_huge_pages(allowed: bool) -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::thread::{disable_transparent_huge_pages, transparent_huge_pages_are_disabled};
        if std::env::var_os(HUGE_PAGES_ENV).is_none()
            && let Err(e) = disable_transparent_huge_pages(!allowed)
        {
            tracing::warn!(error = %e, "cannot switch transparent huge pages");
        }
        !transparent_huge_pages_are_disabled().unwrap_or(false)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (allowed, HUGE_PAGES_ENV);
        false
    }
}
