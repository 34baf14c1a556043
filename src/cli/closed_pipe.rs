//! The printing commands end quietly when their reader leaves (`tousu export | head`), as Unix
//! tools do. Rust ignores SIGPIPE, so a write to a closed pipe is an error, and the first
//! `println!` after it panicked. With SIGPIPE's default the process ends at that write, with
//! nothing on stderr.
//!
//! One of the two places of the project with `unsafe` (with `allocator.rs`): one FFI call.
#![allow(unsafe_code)]

/// Gives SIGPIPE its default disposition (end the process). Call before any thread starts,
/// and only in commands that write to no socket.
pub fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: sets the disposition of one signal to its default; no handler is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
