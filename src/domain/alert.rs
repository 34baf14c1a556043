//! What an alert is, and what became of its deliveries.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One hot-topic alert: something an analyst should look at now.
///
/// Detection builds it and hands it to the alert center, which assigns `id`, stores it and
/// delivers it to every configured webhook whose filters it passes (department, grade, rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Assigned by `raise` (`AL` + creation time in Unix milliseconds + `-` + a sequence, e.g.
    /// `AL1763800000123-42`); whatever detection puts here is replaced.
    #[serde(default)]
    pub id: String,
    /// The rule that fired, as named in the config (`topic_surge`, `category_spike`,
    /// `group_complaint`, `safety_case`, `sla_due_soon`, `sla_breached`).
    pub rule: String,
    /// What the alert is about (`topic:T123`, `case:TS20261122-000001`): one alert per key until
    /// its `fingerprint` changes.
    pub key: String,
    /// The material state of the key (say, its count bucket and grade): a new alert for the same
    /// key goes out only when this differs from the key's last alert.
    pub fingerprint: String,
    /// A Chinese one-liner, e.g. `热点话题：魅力之城小区 噪音扰民（7 天 23 件，增长 5.2 倍）`.
    pub title: String,
    /// A few lines of plain text or markdown: phrases, counts, first/last seen, sample case
    /// numbers, grade mix.
    pub summary: String,
    /// `一般`, `严重` or `重大`.
    pub severity: String,
    /// The department of the one case the alert is about (routing sends it to that
    /// department's webhooks); `None` for alerts about many cases (topics, category spikes,
    /// group complaints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// When detection raised it.
    pub created_at: Timestamp,
    /// The structured detail (topic, counts, ...), sent as is in the generic JSON webhook.
    /// An alert about one case names it in `case` (and a deadline alert its deadline's step in
    /// `deadline`).
    #[serde(default)]
    pub data: serde_json::Value,
}

impl Alert {
    /// The case the alert is about (`data.case`), if it is about one.
    pub fn case_id(&self) -> Option<&str> {
        self.data.get("case").and_then(serde_json::Value::as_str)
    }
}

/// Where one delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet; will be tried (again) at `next_at`.
    Pending,
    /// The webhook accepted it.
    Delivered,
    /// Given up: attempts exhausted, or the webhook is no longer configured.
    Failed,
}

impl DeliveryStatus {
    /// The name stored and shown in the API.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// The status named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// One alert's delivery to one webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// The delivery's id, also sent as `X-Tousu-Delivery` so that a receiver can drop a repeat.
    pub id: String,
    /// The webhook's name in the config.
    pub webhook: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// POSTs made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending deliveries only).
    pub next_at: Option<Timestamp>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// When the webhook accepted it.
    pub delivered_at: Option<Timestamp>,
}

/// An alert from the history, with what became of each of its deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// The alert as raised.
    #[serde(flatten)]
    pub alert: Alert,
    /// One per webhook configured when it was raised.
    pub deliveries: Vec<DeliveryRecord>,
}
