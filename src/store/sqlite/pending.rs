//! A command's answer while its group commits: the writer runs each command of a group, keeps
//! what it would answer, and answers every one only once the group has committed (or each with
//! the group's error when it could not).

use super::alerts::AlertWritten;
use super::events::EventWritten;
use super::writer::{Command, Reply};
use crate::domain::Case;
use crate::error::{Error, Result};
use crate::store::{KeptApart, Updated};

/// A command's answer, sent once its group has committed.
pub(super) enum Pending {
    Inserted(Reply<Vec<Result<Case>>>, Result<Vec<Result<Case>>>),
    Updated(Reply<Updated>, Box<Result<Updated>>),
    Revealed(Reply<KeptApart>, Result<KeptApart>),
    Alerts(Reply<AlertWritten>, Result<AlertWritten>),
    Events(Reply<EventWritten>, Result<EventWritten>),
}

impl Pending {
    /// A command not run because its group had already failed (answered by [`Pending::fail`]).
    pub fn skipped(cmd: Command) -> Pending {
        fn not_run<T>() -> Result<T> {
            Err(Error::Store("not run".into()))
        }
        match cmd {
            Command::Insert(_, _, reply) => Pending::Inserted(reply, not_run()),
            Command::Update(_, reply) => Pending::Updated(reply, Box::new(not_run())),
            Command::Reveal(_, reply) => Pending::Revealed(reply, not_run()),
            Command::Alerts(_, reply) => Pending::Alerts(reply, not_run()),
            Command::Events(_, reply) => Pending::Events(reply, not_run()),
            Command::Bulk(..) => unreachable!("run() keeps bulk switches out of groups"),
        }
    }

    /// The command's own error, as the group's when it made SQLite give the group up.
    pub fn error(&self) -> Option<Error> {
        let again = |e: &Error| like(e, e.to_string());
        match self {
            Pending::Inserted(_, Err(e))
            | Pending::Alerts(_, Err(e))
            | Pending::Events(_, Err(e))
            | Pending::Revealed(_, Err(e)) => Some(again(e)),
            Pending::Inserted(_, Ok(items)) => {
                items.iter().find_map(|r| r.as_ref().err()).map(again)
            }
            Pending::Updated(_, r) => r.as_ref().as_ref().err().map(again),
            Pending::Alerts(_, Ok(_)) | Pending::Events(_, Ok(_)) | Pending::Revealed(_, Ok(_)) => {
                None
            }
        }
    }

    /// Answers the command with an error like `cause` (a full disk stays a full disk).
    pub fn fail(self, cause: &Error, msg: &str) {
        let err = || like(cause, msg.to_string());
        match self {
            Pending::Inserted(reply, _) => drop(reply.send(Err(err()))),
            Pending::Updated(reply, _) => drop(reply.send(Err(err()))),
            Pending::Revealed(reply, _) => drop(reply.send(Err(err()))),
            Pending::Alerts(reply, _) => drop(reply.send(Err(err()))),
            Pending::Events(reply, _) => drop(reply.send(Err(err()))),
        }
    }

    pub fn answer(self) {
        // A caller that gave up waiting is no reason to stop.
        match self {
            Pending::Inserted(reply, r) => drop(reply.send(r)),
            Pending::Updated(reply, r) => drop(reply.send(*r)),
            // Only now, after the commit: what was read is shown once its record is durable.
            Pending::Revealed(reply, r) => drop(reply.send(r)),
            Pending::Alerts(reply, r) => drop(reply.send(r)),
            Pending::Events(reply, r) => drop(reply.send(r)),
        }
    }
}

/// An error of `cause`'s kind with `msg` (the store's errors are not `Clone`).
fn like(cause: &Error, msg: String) -> Error {
    match cause {
        Error::StorageFull(_) => Error::StorageFull(msg),
        Error::StorageUnavailable(_) => Error::StorageUnavailable(msg),
        _ => Error::Store(msg),
    }
}

/// The cases a pending answer created.
pub(super) fn created(p: &mut Pending) -> Vec<&mut Case> {
    match p {
        Pending::Inserted(_, Ok(items)) => {
            items.iter_mut().filter_map(|r| r.as_mut().ok()).collect()
        }
        _ => Vec::new(),
    }
}
