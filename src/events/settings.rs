//! The `[events]` configuration: where case events go, which types each receiver takes, and
//! how hard to try.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::alerts::{
    DEFAULT_FIRST_BACKOFF_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BACKOFF_MS, Retry, Webhook,
    WebhookKind, check_webhooks,
};
use crate::domain::EventType;
use crate::error::{Error, Result};

/// One receiver of case events (an intake or CRM system): signed JSON only.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventWebhook {
    /// A unique name; deliveries refer to the webhook by it, so renaming one fails its pending
    /// deliveries.
    pub name: String,
    /// Always `json` (accepted so that an `[alerts]` entry can be copied); the chat robots
    /// are for people, not systems.
    #[serde(default)]
    pub kind: WebhookKind,
    /// Where to POST.
    pub url: String,
    /// The shared key for `X-Tousu-Signature`. Recommended: without it a receiver cannot tell
    /// a forged event from a real one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Only events of these types (all when absent or empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<EventType>,
}

impl std::fmt::Debug for EventWebhook {
    // The secret and the URL's path and query are not printed (see `Webhook`'s).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventWebhook")
            .field("webhook", &self.as_webhook())
            .field("types", &self.types)
            .finish()
    }
}

impl EventWebhook {
    /// Whether events of type `kind` go to this webhook.
    pub fn takes(&self, kind: EventType) -> bool {
        self.types.is_empty() || self.types.contains(&kind)
    }

    /// As the delivery worker knows webhooks.
    pub fn as_webhook(&self) -> Webhook {
        Webhook {
            name: self.name.clone(),
            kind: WebhookKind::Json,
            url: self.url.clone(),
            secret: self.secret.clone(),
            ..Webhook::default()
        }
    }
}

/// Case-event delivery settings (`[events]` in the config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventSettings {
    /// Each event goes to each of these that takes its type. With none, no event is made.
    pub webhooks: Vec<EventWebhook>,
    /// POSTs per delivery before it is marked failed.
    pub max_attempts: u32,
    /// Wait after the first failed attempt, in milliseconds; doubles with each failure.
    pub first_backoff_ms: u64,
    /// Cap on the wait between attempts, in milliseconds (before ±20 % jitter).
    pub max_backoff_ms: u64,
}

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings {
            webhooks: Vec::new(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            first_backoff_ms: DEFAULT_FIRST_BACKOFF_MS,
            max_backoff_ms: DEFAULT_MAX_BACKOFF_MS,
        }
    }
}

impl EventSettings {
    /// Checks what serde cannot: unique non-empty names, http(s) URLs, JSON only, no type
    /// listed twice, sane retry numbers.
    pub fn validate(&self) -> Result<()> {
        let webhooks: Vec<Webhook> = self.webhooks.iter().map(|w| w.as_webhook()).collect();
        check_webhooks("events", &webhooks)?;
        for w in &self.webhooks {
            if w.kind != WebhookKind::Json {
                return Err(Error::Invalid(format!(
                    "events: webhook {:?} is of kind {:?}: case events go to systems as signed JSON only; set kind = \"json\" or leave it out",
                    w.name, w.kind
                )));
            }
            let mut seen = HashSet::new();
            if let Some(t) = w.types.iter().find(|t| !seen.insert(**t)) {
                return Err(Error::Invalid(format!(
                    "events: webhook {:?} lists type {t} twice in `types`",
                    w.name
                )));
            }
        }
        self.retry().validate("events")
    }

    /// The retry numbers.
    pub fn retry(&self) -> Retry {
        Retry {
            max_attempts: self.max_attempts,
            first_backoff_ms: self.first_backoff_ms,
            max_backoff_ms: self.max_backoff_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_toml_and_checks_it() {
        let s: EventSettings = toml::from_str(
            r#"
            max_attempts = 6
            [[webhooks]]
            name = "crm"
            url = "https://crm.example.com/tousu/events"
            secret = "whsec_crm"
            [[webhooks]]
            name = "bi"
            kind = "json"
            url = "http://10.0.0.5/hook"
            types = ["case.created", "case.closed"]
            "#,
        )
        .expect("valid settings");
        s.validate().unwrap();
        assert_eq!(s.max_attempts, 6);
        assert!(
            s.webhooks[0].takes(EventType::DeadlineBreached),
            "no filter"
        );
        assert!(s.webhooks[1].takes(EventType::Closed));
        assert!(!s.webhooks[1].takes(EventType::Assigned));
        let shown = format!("{:?}", s.webhooks[0]);
        assert!(
            !shown.contains("whsec_crm") && !shown.contains("tousu/events"),
            "{shown}"
        );

        let unknown = toml::from_str::<EventSettings>(
            "[[webhooks]]\nname = \"a\"\nurl = \"http://x\"\ntypes = [\"case.updated\"]",
        )
        .unwrap_err()
        .to_string();
        assert!(
            unknown.contains("case.updated") && unknown.contains("case.closed"),
            "{unknown}"
        );

        let robot = EventSettings {
            webhooks: vec![EventWebhook {
                name: "robot".into(),
                kind: WebhookKind::Wecom,
                url: "https://qyapi.weixin.qq.com/x".into(),
                ..EventWebhook::default()
            }],
            ..EventSettings::default()
        };
        let e = robot.validate().unwrap_err().to_string();
        assert!(e.contains("robot") && e.contains("json"), "{e}");
        let twice = EventSettings {
            webhooks: vec![EventWebhook {
                name: "a".into(),
                url: "http://x/".into(),
                types: vec![EventType::Closed, EventType::Closed],
                ..EventWebhook::default()
            }],
            ..EventSettings::default()
        };
        assert!(twice.validate().is_err());
        let no_url = EventSettings {
            webhooks: vec![EventWebhook {
                name: "a".into(),
                url: "crm.example.com".into(),
                ..EventWebhook::default()
            }],
            ..EventSettings::default()
        };
        let e = no_url.validate().unwrap_err().to_string();
        assert!(e.starts_with("events:") && e.contains("url"), "{e}");
    }
}
