//! The crate's error type: what went wrong, said so that a user can fix it.

use std::path::PathBuf;

/// Everything the library can fail with.
///
/// User errors (bad input, bad files, unknown labels) carry a message that says what to fix;
/// internal errors (tensor maths, tokenizer internals) carry the library's own text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The complaint text is empty or only whitespace.
    #[error("complaint text is empty: send the complaint's words in `text`")]
    EmptyText,

    /// A JSONL line could not be read as a case.
    #[error("{path}:{line}: {message}")]
    BadLine {
        /// File the line came from.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it and what is expected.
        message: String,
    },

    /// A label in evaluation or training data that the model or profile does not know.
    #[error("unknown {head} label {label:?}{location}; the model knows: {known}")]
    UnknownLabel {
        /// `category` or `grade`.
        head: &'static str,
        /// The label as written.
        label: String,
        /// ` at path:line`, or empty.
        location: String,
        /// The labels the model has, comma separated.
        known: String,
    },

    /// A configuration, profile or model file is missing or malformed.
    #[error("{path}: {message}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// The request or command asks for something that cannot be done as asked.
    #[error("{0}")]
    Invalid(String),

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The caller's role may not do this (the message says who may).
    #[error("{0}")]
    Forbidden(String),

    /// The thing asked for does not exist (e.g. `case TS20261122-000001`).
    #[error("{0} not found")]
    NotFound(String),

    /// The request conflicts with the current state (a reused idempotency key, a case in a
    /// status that does not allow the change).
    #[error("{0}")]
    Conflict(String),

    /// A step of the handling process that the case's status (or the caller's role) does not
    /// allow.
    #[error(
        "{action} is not allowed while the case is {status}{}",
        allowed_text(allowed)
    )]
    InvalidTransition {
        /// The step asked for.
        action: &'static str,
        /// The case's status.
        status: &'static str,
        /// The steps the caller may take instead.
        allowed: Vec<&'static str>,
    },

    /// The same request (by its idempotency key) is still being processed: retry shortly.
    #[error("{0}")]
    Busy(String),

    /// An idempotency key was reused with a different request.
    #[error("{0}")]
    IdempotencyMismatch(String),

    /// The system of record failed (disk full, corrupt file, writer stopped).
    #[error("store: {0}")]
    Store(String),

    /// The disk holding the store is full: nothing was written. Free space and retry.
    #[error("storage full: {0}")]
    StorageFull(String),

    /// The store cannot write or read now (an I/O error, a read-only file system, a lock held
    /// elsewhere): nothing was written. Retry later.
    #[error("storage unavailable: {0}")]
    StorageUnavailable(String),

    /// The search index failed.
    #[error("index: {0}")]
    Index(String),

    /// A failure inside the model runtime (candle) or the tokenizer.
    #[error("model runtime: {0}")]
    Model(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A malformed or missing file.
    pub fn bad_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.into(),
            message: message.into(),
        }
    }
}

fn allowed_text(allowed: &[&str]) -> String {
    if allowed.is_empty() {
        "; you may take no step on it now".into()
    } else {
        format!("; you may: {}", allowed.join(", "))
    }
}

/// Longest piece of a caller's input echoed in an error message, in characters.
const ECHO_CHARS: usize = 64;

/// `input` as an error message may echo it: at most 64 characters, then `…` (a 5,000-character
/// id is not repeated back whole).
pub fn cut(input: &str) -> std::borrow::Cow<'_, str> {
    match input.char_indices().nth(ECHO_CHARS) {
        None => input.into(),
        Some((at, _)) => format!("{}…", &input[..at]).into(),
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
