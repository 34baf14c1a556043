//! Hot-topic alerts, the delivery half: alert records, webhook formats with their signatures,
//! a persisted delivery queue with retries, the history, and a live feed.
//!
//! Detection (trends and rules) builds an [`Alert`] and calls [`AlertCenter::raise`]. The
//! center records it in the store's alert queue with one pending delivery per configured
//! [`Webhook`] whose filters it passes (a department's robot takes its department's cases; a
//! supervisors' channel takes 重大 only), dropping a repeat of the same key and fingerprint,
//! and one background thread POSTs each delivery in the webhook's format ([`WebhookKind`]:
//! generic signed JSON, 企业微信, 钉钉, 飞书), retrying with exponential backoff until it is
//! accepted or `max_attempts` is spent. The same worker delivers case events (`crate::events`).
//!
//! - `settings`: webhooks and retry settings (`[alerts]` in the config).
//! - `channel`: message formats, signatures, and how an answer is judged.
//! - `worker`: the delivery thread and its backoff.
//! - `center`: [`AlertCenter`], tying them together.

mod center;
mod channel;
mod settings;
mod worker;

pub use self::center::AlertCenter;
pub use self::channel::{
    DELIVERY_HEADER, Outgoing, SIGNATURE_HEADER, TIMESTAMP_HEADER, check_response, dingtalk_sign,
    feishu_sign, render, sign_json, verify_signature,
};
pub(crate) use self::settings::check_webhooks;
pub use self::settings::{
    AlertSettings, DEFAULT_FIRST_BACKOFF_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BACKOFF_MS, Retry,
    Webhook, WebhookKind, known_rule,
};
pub use self::worker::REQUEST_TIMEOUT;
pub(crate) use self::worker::{Due, Outbox, Signal, Worker};
pub use crate::domain::{Alert, AlertRecord, DeliveryRecord, DeliveryStatus};
pub use crate::store::HISTORY_MAX;
