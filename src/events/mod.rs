//! Case events out: signed webhooks for case created, assigned, transitioned, deadline
//! breached and closed, so that an intake or CRM system can follow its cases without polling.
//!
//! The source of truth is an outbox that commits with the change: every case write appends an
//! audit event in its own transaction, and the `sla_breached` deadline alerts are stored the
//! same way. The dispatcher tails both by `seq` from a durable cursor, makes the events
//! (`mapping`), and queues them with their deliveries in one transaction with the cursor; the
//! alerts' delivery worker, over the event queue, POSTs them as signed JSON with the same
//! retries and backoff. At least once, in order per case and webhook; a receiver drops a repeat
//! by the event's `id`.
//!
//! - `settings`: `[events]`: webhooks (JSON only) with their `types` filter, retries.
//! - `mapping`: which audit entry or alert is which event, with the case's labels then.
//! - `dispatcher`: the tail, from the cursor.
//! - `delivery`: the queue as the worker drains it; the request an event becomes.
//! - `hub`: [`EventHub`], starting and stopping both threads.

mod delivery;
mod dispatcher;
mod hub;
mod mapping;
mod settings;

pub use self::delivery::{EVENT_HEADER, render};
pub use self::hub::EventHub;
pub use self::mapping::{BREACH_RULE, kind_of};
pub use self::settings::{EventSettings, EventWebhook};
pub use crate::domain::{CaseEvent, EventType};
