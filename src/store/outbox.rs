//! The store's outboxes: the alert queue, and the case-event queue fed from the audit trail.
//! What goes in, what comes out due, and how an attempt ended.

use jiff::Timestamp;

use crate::domain::{Alert, AuditEvent, CaseEvent};

/// An alert to record, with the webhooks it goes to (those whose filters it passes).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// The alert; the store assigns its `id`.
    pub alert: Alert,
    /// The webhooks to deliver it to, by name: one pending delivery each.
    pub webhooks: Vec<String>,
}

/// A pending alert delivery whose time has come.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    /// The delivery's id (`{alert id}.{n}`).
    pub id: String,
    /// The webhook's name.
    pub webhook: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// What to deliver.
    pub alert: Alert,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// The webhook accepted it on attempt `attempts`.
    Delivered {
        /// Attempts made, this one included.
        attempts: u32,
        /// When.
        at: Timestamp,
    },
    /// It failed; try again at `next_at`.
    Retry {
        /// Attempts made.
        attempts: u32,
        /// When to try again.
        next_at: Timestamp,
        /// Why it failed.
        error: String,
    },
    /// Given up.
    Failed {
        /// Attempts made.
        attempts: u32,
        /// Why.
        error: String,
    },
}

/// Most alerts one history read returns.
pub const HISTORY_MAX: usize = 1000;

/// An audit event with its place in the store's audit trail (its `seq`: commit order, from 1,
/// never reused).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Its place in the trail.
    pub seq: u64,
    /// The event.
    pub event: AuditEvent,
}

/// An alert with its place in the store's alert history (commit order, from 1).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEntry {
    /// Its place in the history.
    pub seq: u64,
    /// The alert.
    pub alert: Alert,
}

/// How far the case-event dispatcher has read the audit trail and the alert history: every
/// entry up to these has been turned into events (or found to be none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventCursor {
    /// The last audit `seq` read.
    pub audit_seq: u64,
    /// The last alert `seq` read.
    pub alert_seq: u64,
}

/// A case event to queue, with the webhooks it goes to.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The event (its `id` is already set and unique).
    pub event: CaseEvent,
    /// The webhooks to deliver it to, by name: one pending delivery each.
    pub webhooks: Vec<String>,
}

/// A pending case-event delivery whose time has come.
#[derive(Debug, Clone, PartialEq)]
pub struct DueEvent {
    /// The delivery's id (`{event id}.{n}`).
    pub id: String,
    /// The webhook's name.
    pub webhook: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// What to deliver.
    pub event: CaseEvent,
}
