//! The `[alerts]` configuration: where alerts go and how hard to try.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The message format a webhook expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookKind {
    /// Any HTTP receiver: the alert as JSON, signed with `X-Tousu-Signature` when a secret is set.
    Json,
    /// 企业微信 group robot (`qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...`): markdown.
    Wecom,
    /// 钉钉 custom robot (`oapi.dingtalk.com/robot/send?access_token=...`): markdown, and the
    /// 加签 URL signature when a secret is set.
    Dingtalk,
    /// 飞书 custom bot (`open.feishu.cn/open-apis/bot/v2/hook/...`): text, and the 签名校验
    /// fields in the body when a secret is set.
    Feishu,
}

/// One receiver of alerts.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// A unique name; deliveries refer to the webhook by it, so renaming one fails its pending
    /// deliveries.
    pub name: String,
    /// Its message format.
    pub kind: WebhookKind,
    /// Where to POST. For the chat robots the URL itself holds the robot's token: treat it as a
    /// secret too.
    pub url: String,
    /// The signing secret (钉钉 `SEC...`, 飞书 签名校验 key, or the JSON receiver's shared key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl std::fmt::Debug for Webhook {
    // Neither the secret nor the URL's path and query (robot tokens live there) are printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &redacted_url(&self.url))
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `scheme://host/***`: enough to tell webhooks apart in logs without leaking a token.
pub(crate) fn redacted_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Credentials in `user:pass@host` are dropped too.
    let host = host.rsplit('@').next().unwrap_or(host);
    format!("{scheme}://{host}/***")
}

/// Default attempts before a delivery is given up: with the default backoff (1 s doubling to a
/// 5 min cap) 12 attempts span about 25 minutes, enough to ride out a receiver's restart or a
/// short outage.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 12;
/// Default wait after the first failure.
pub const DEFAULT_FIRST_BACKOFF_MS: u64 = 1_000;
/// Default cap on the wait between attempts.
pub const DEFAULT_MAX_BACKOFF_MS: u64 = 300_000;

/// Alert delivery settings (`[alerts]` in the config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// Every alert goes to each of these.
    pub webhooks: Vec<Webhook>,
    /// POSTs per delivery before it is marked failed.
    pub max_attempts: u32,
    /// Wait after the first failed attempt, in milliseconds; doubles with each failure.
    pub first_backoff_ms: u64,
    /// Cap on the wait between attempts, in milliseconds (before ±20 % jitter).
    pub max_backoff_ms: u64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            webhooks: Vec::new(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            first_backoff_ms: DEFAULT_FIRST_BACKOFF_MS,
            max_backoff_ms: DEFAULT_MAX_BACKOFF_MS,
        }
    }
}

impl AlertSettings {
    /// Checks what serde cannot: unique non-empty names, http(s) URLs, sane retry numbers.
    pub fn validate(&self) -> Result<()> {
        let mut names = HashSet::new();
        for w in &self.webhooks {
            if w.name.trim().is_empty() {
                return Err(Error::Invalid(
                    "alerts: every webhook needs a `name`".to_string(),
                ));
            }
            if !names.insert(w.name.as_str()) {
                return Err(Error::Invalid(format!(
                    "alerts: two webhooks are named {:?}; names must be unique",
                    w.name
                )));
            }
            if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
                return Err(Error::Invalid(format!(
                    "alerts: webhook {:?} needs an http:// or https:// `url`",
                    w.name
                )));
            }
            if w.secret.as_deref().is_some_and(str::is_empty) {
                return Err(Error::Invalid(format!(
                    "alerts: webhook {:?} has an empty `secret`; remove it or set one",
                    w.name
                )));
            }
        }
        if self.max_attempts == 0 {
            return Err(Error::Invalid(
                "alerts: `max_attempts` must be at least 1".to_string(),
            ));
        }
        if self.first_backoff_ms == 0 || self.first_backoff_ms > self.max_backoff_ms {
            return Err(Error::Invalid(format!(
                "alerts: need 0 < first_backoff_ms ({}) <= max_backoff_ms ({})",
                self.first_backoff_ms, self.max_backoff_ms
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret_and_token() {
        let w = Webhook {
            name: "ops".into(),
            kind: WebhookKind::Dingtalk,
            url: "https://oapi.dingtalk.com/robot/send?access_token=abc123".into(),
            secret: Some("SECxyz".into()),
        };
        let shown = format!("{w:?}");
        assert!(!shown.contains("SECxyz"), "{shown}");
        assert!(!shown.contains("abc123"), "{shown}");
        assert!(shown.contains("oapi.dingtalk.com"), "{shown}");
    }

    #[test]
    fn reads_toml_with_defaults_and_refuses_unknown_fields() {
        let s: AlertSettings = toml::from_str(
            r#"
            [[webhooks]]
            name = "wecom"
            kind = "wecom"
            url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
            "#,
        )
        .expect("valid settings");
        assert_eq!(s.max_attempts, DEFAULT_MAX_ATTEMPTS);
        assert_eq!(s.webhooks[0].kind, WebhookKind::Wecom);
        assert!(s.validate().is_ok());

        let bad = toml::from_str::<AlertSettings>(
            "[[webhooks]]\nname = \"a\"\nkind = \"json\"\nurl = \"http://x\"\nsecrt = \"s\"",
        );
        assert!(bad.is_err());
    }

    #[test]
    fn refuses_duplicate_names() {
        let w = Webhook {
            name: "a".into(),
            kind: WebhookKind::Json,
            url: "http://127.0.0.1:1/".into(),
            secret: None,
        };
        let s = AlertSettings {
            webhooks: vec![w.clone(), w],
            ..AlertSettings::default()
        };
        assert!(s.validate().is_err());
    }
}
