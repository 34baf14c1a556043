//! The `[alerts]` configuration: where alerts go and how hard to try.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::domain::{Alert, Grade, Reason};
use crate::error::{Error, Result};

/// The message format a webhook expects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookKind {
    /// Any HTTP receiver: the alert as JSON, signed with `X-Tousu-Signature` when a secret is set.
    #[default]
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

/// One receiver of alerts, and which alerts it takes: with no filter every alert, otherwise
/// those that pass every filter given.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Only alerts about a case of one of these departments (a department's robot). An alert
    /// about no one case (a topic, a category spike) never passes this filter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<String>,
    /// Only alerts of these grades (the supervisors' channel: `["重大"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grades: Vec<Grade>,
    /// Only alerts of these rules (see [`known_rule`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

impl Webhook {
    /// Whether `alert` goes to this webhook: it passes every filter set.
    pub fn takes(&self, alert: &Alert) -> bool {
        let department = self.departments.is_empty()
            || alert
                .department
                .as_ref()
                .is_some_and(|d| self.departments.contains(d));
        let grade = self.grades.is_empty()
            || self
                .grades
                .iter()
                .any(|g| g.label() == alert.severity.as_str());
        let rule = self.rules.is_empty() || self.rules.contains(&alert.rule);
        department && grade && rule
    }
}

/// The rules that raise alerts: the fixed ones, and `<reason>_case` for every reason code
/// (which of them alert is `alert_rules.reasons`).
const FIXED_RULES: [&str; 6] = [
    "topic_surge",
    "category_spike",
    "group_complaint",
    "sla_due_soon",
    "sla_breached",
    "case_digest",
];

/// Whether `rule` names a rule that raises alerts (a webhook's `rules` filter takes only
/// these, so that a typo does not silence a channel).
pub fn known_rule(rule: &str) -> bool {
    FIXED_RULES.contains(&rule)
        || rule
            .strip_suffix("_case")
            .is_some_and(|code| Reason::ALL.iter().any(|r| r.code() == code))
}

/// Every rule name [`known_rule`] takes, for messages.
fn rule_names() -> String {
    let mut all: Vec<String> = FIXED_RULES.iter().map(|r| r.to_string()).collect();
    all.extend(Reason::ALL.iter().map(|r| format!("{}_case", r.code())));
    all.join(", ")
}

impl std::fmt::Debug for Webhook {
    // Neither the secret nor the URL's path and query (robot tokens live there) are printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &redacted_url(&self.url))
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("departments", &self.departments)
            .field("grades", &self.grades)
            .field("rules", &self.rules)
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

/// How hard a delivery is tried: attempts, and the backoff between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// POSTs per delivery before it is marked failed.
    pub max_attempts: u32,
    /// Wait after the first failed attempt, in milliseconds; doubles with each failure.
    pub first_backoff_ms: u64,
    /// Cap on the wait between attempts, in milliseconds (before ±20 % jitter).
    pub max_backoff_ms: u64,
}

impl Retry {
    /// Checks the numbers; `section` names the config section in the message.
    pub fn validate(&self, section: &str) -> Result<()> {
        if self.max_attempts == 0 {
            return Err(Error::Invalid(format!(
                "{section}: `max_attempts` must be at least 1"
            )));
        }
        if self.first_backoff_ms == 0 || self.first_backoff_ms > self.max_backoff_ms {
            return Err(Error::Invalid(format!(
                "{section}: need 0 < first_backoff_ms ({}) <= max_backoff_ms ({})",
                self.first_backoff_ms, self.max_backoff_ms
            )));
        }
        Ok(())
    }
}

/// Alert delivery settings (`[alerts]` in the config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// Every alert goes to each of these whose filters it passes.
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
    /// Checks what serde cannot: unique non-empty names, http(s) URLs, known rules in the
    /// filters, sane retry numbers. (Grades are checked as they are read; departments against
    /// the service's directory by [`AlertSettings::check_departments`].)
    pub fn validate(&self) -> Result<()> {
        check_webhooks("alerts", &self.webhooks)?;
        for w in &self.webhooks {
            check_list("alerts", &w.name, "departments", &w.departments)?;
            check_list("alerts", &w.name, "rules", &w.rules)?;
            if let Some(rule) = w.rules.iter().find(|r| !known_rule(r)) {
                return Err(Error::Invalid(format!(
                    "alerts: webhook {:?} filters on rule {rule:?}, which raises no alert; rules are: {}",
                    w.name,
                    rule_names()
                )));
            }
        }
        self.retry().validate("alerts")
    }

    /// Refuses a department filter naming a department outside `known` (the departments the
    /// profile routes to and the handlers' keys name), listing them.
    pub fn check_departments<'a>(&self, known: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let known: Vec<&str> = known.into_iter().collect();
        for w in &self.webhooks {
            if let Some(d) = w.departments.iter().find(|d| !known.contains(&d.as_str())) {
                return Err(Error::Invalid(format!(
                    "alerts: webhook {:?} filters on department {d:?}, which this service does not know; known departments (the profile's routing and the handlers' keys): {}",
                    w.name,
                    known.join(", ")
                )));
            }
        }
        Ok(())
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

/// Unique non-empty names, http(s) URLs, no empty secret: what every webhook of `section`
/// needs.
pub(crate) fn check_webhooks(section: &str, webhooks: &[Webhook]) -> Result<()> {
    let mut names = HashSet::new();
    for w in webhooks {
        if w.name.trim().is_empty() {
            return Err(Error::Invalid(format!(
                "{section}: every webhook needs a `name`"
            )));
        }
        if !names.insert(w.name.as_str()) {
            return Err(Error::Invalid(format!(
                "{section}: two webhooks are named {:?}; names must be unique",
                w.name
            )));
        }
        if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
            return Err(Error::Invalid(format!(
                "{section}: webhook {:?} needs an http:// or https:// `url`",
                w.name
            )));
        }
        if w.secret.as_deref().is_some_and(str::is_empty) {
            return Err(Error::Invalid(format!(
                "{section}: webhook {:?} has an empty `secret`; remove it or set one",
                w.name
            )));
        }
    }
    Ok(())
}

/// A filter list holds no blank and no repeated entry.
fn check_list(section: &str, webhook: &str, field: &str, list: &[String]) -> Result<()> {
    let mut seen = HashSet::new();
    for item in list {
        if item.trim().is_empty() {
            return Err(Error::Invalid(format!(
                "{section}: webhook {webhook:?} has a blank entry in `{field}`"
            )));
        }
        if !seen.insert(item) {
            return Err(Error::Invalid(format!(
                "{section}: webhook {webhook:?} lists {item:?} twice in `{field}`"
            )));
        }
    }
    Ok(())
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
            ..Webhook::default()
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
            ..Webhook::default()
        };
        let s = AlertSettings {
            webhooks: vec![w.clone(), w],
            ..AlertSettings::default()
        };
        assert!(s.validate().is_err());
    }

    fn case_alert(rule: &str, severity: &str, department: Option<&str>) -> Alert {
        Alert {
            id: String::new(),
            rule: rule.into(),
            key: "case:TS20261122-000001".into(),
            fingerprint: "f".into(),
            title: "t".into(),
            summary: "s".into(),
            severity: severity.into(),
            department: department.map(str::to_string),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            data: serde_json::Value::Null,
        }
    }

    #[test]
    fn filters_route_by_department_grade_and_rule() {
        let everything = Webhook::default();
        let network = Webhook {
            departments: vec!["网络运维中心".into()],
            ..Webhook::default()
        };
        let major = Webhook {
            grades: vec![Grade::Major],
            ..Webhook::default()
        };
        let network_sla = Webhook {
            departments: vec!["网络运维中心".into(), "计费中心".into()],
            rules: vec!["sla_breached".into()],
            ..Webhook::default()
        };
        let ours = case_alert("safety_case", "严重", Some("网络运维中心"));
        let theirs = case_alert("sla_breached", "重大", Some("客户服务部"));
        let topic = case_alert("topic_surge", "重大", None);
        let breached = case_alert("sla_breached", "一般", Some("计费中心"));
        for a in [&ours, &theirs, &topic, &breached] {
            assert!(everything.takes(a), "no filter takes everything");
        }
        assert!(network.takes(&ours));
        assert!(!network.takes(&theirs), "another department's case");
        assert!(
            !network.takes(&topic),
            "an alert about no one case never reaches a department's robot"
        );
        assert!(major.takes(&theirs) && major.takes(&topic));
        assert!(!major.takes(&ours) && !major.takes(&breached));
        assert!(network_sla.takes(&breached), "every filter passes");
        assert!(!network_sla.takes(&ours), "the rule filter fails");
        assert!(!network_sla.takes(&theirs), "the department filter fails");
    }

    #[test]
    fn filters_are_read_and_checked() {
        let s: AlertSettings = toml::from_str(
            r#"
            [[webhooks]]
            name = "supervisors"
            kind = "wecom"
            url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
            grades = ["重大"]
            [[webhooks]]
            name = "network"
            kind = "dingtalk"
            url = "https://oapi.dingtalk.com/robot/send?access_token=t"
            departments = ["网络运维中心"]
            rules = ["safety_case", "sla_breached", "sla_due_soon"]
            "#,
        )
        .expect("valid settings");
        s.validate().unwrap();
        assert_eq!(s.webhooks[0].grades, [Grade::Major]);
        s.check_departments(["网络运维中心", "计费中心"]).unwrap();
        let e = s.check_departments(["计费中心"]).unwrap_err().to_string();
        assert!(
            e.contains("\"network\"") && e.contains("网络运维中心"),
            "{e}"
        );
        assert!(e.contains("计费中心"), "lists the known ones: {e}");

        let grade = toml::from_str::<AlertSettings>(
            "[[webhooks]]\nname = \"a\"\nkind = \"json\"\nurl = \"http://x\"\ngrades = [\"紧急\"]",
        )
        .unwrap_err()
        .to_string();
        assert!(grade.contains("紧急") && grade.contains("重大"), "{grade}");

        let with = |w: Webhook| AlertSettings {
            webhooks: vec![Webhook {
                name: "a".into(),
                url: "http://x/".into(),
                ..w
            }],
            ..AlertSettings::default()
        };
        let e = with(Webhook {
            rules: vec!["sla_breach".into()],
            ..Webhook::default()
        })
        .validate()
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("sla_breach") && e.contains("sla_breached"),
            "{e}"
        );
        assert!(
            with(Webhook {
                departments: vec!["计费中心".into(), "计费中心".into()],
                ..Webhook::default()
            })
            .validate()
            .is_err()
        );
        assert!(
            with(Webhook {
                rules: vec!["external_case".into(), "category_spike".into()],
                ..Webhook::default()
            })
            .validate()
            .is_ok()
        );
        assert!(known_rule("safety_case") && !known_rule("weather_case"));
    }
}
