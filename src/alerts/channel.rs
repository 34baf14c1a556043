//! Message formats and signatures: what a delivery POSTs to each kind of webhook, and how the
//! answer is judged.
//!
//! # Verifying a JSON webhook (receivers)
//!
//! A [`WebhookKind::Json`] delivery with a secret carries `X-Tousu-Timestamp: <unix seconds>`
//! and `X-Tousu-Signature: v1=<hex>`, where `<hex>` is HMAC-SHA256 keyed with the secret over
//! `"{timestamp}.{raw body}"` (the Stripe scheme). A receiver recomputes it over the raw bytes
//! it received (before any JSON parsing), compares in constant time ([`verify_signature`] does
//! both), and rejects a timestamp more than 5 minutes from its own clock, so that a captured
//! request cannot be replayed later. Retries are signed afresh with the time of each attempt.
//! `X-Tousu-Delivery` names the delivery: the same value twice is the same alert to the same
//! webhook, and the second copy can be dropped.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use sha2::Sha256;

use super::settings::{Webhook, WebhookKind};
use crate::domain::Alert;
use crate::domain::beijing;
use crate::error::{Error, Result};

/// Names the delivery, the same on every attempt: receivers drop a repeat by it.
pub const DELIVERY_HEADER: &str = "X-Tousu-Delivery";
/// Unix seconds when the request was signed (JSON webhooks).
pub const TIMESTAMP_HEADER: &str = "X-Tousu-Timestamp";
/// `v1=<hex HMAC-SHA256>` (JSON webhooks with a secret).
pub const SIGNATURE_HEADER: &str = "X-Tousu-Signature";

/// 企业微信 refuses markdown content over 4096 bytes.
const WECOM_MAX_BYTES: usize = 4096;
/// 钉钉 and 飞书 cap a whole request body at 20,000 bytes; this leaves room for the JSON
/// envelope, escapes and the signature.
const CHAT_MAX_BYTES: usize = 18_000;
/// Enough of a refused answer to say why, without filling the queue with a whole error page.
const ERROR_BODY_CHARS: usize = 300;

/// One HTTP request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Where to POST (with 钉钉's signature in the query when it has a secret).
    pub url: String,
    /// Headers besides those the client adds itself.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: String,
}

/// Renders `alert` for `webhook` as delivery `delivery_id`, signed at `now` when the webhook
/// has a secret.
pub fn render(
    webhook: &Webhook,
    alert: &Alert,
    delivery_id: &str,
    now: Timestamp,
) -> Result<Outgoing> {
    let secret = webhook.secret.as_deref();
    let mut url = webhook.url.clone();
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        (DELIVERY_HEADER, delivery_id.to_string()),
    ];
    let body = match webhook.kind {
        WebhookKind::Json => {
            let body = serde_json::to_string(alert)
                .map_err(|e| Error::Invalid(format!("alert {} is not JSON: {e}", alert.id)))?;
            let ts = now.as_second();
            headers.push((TIMESTAMP_HEADER, ts.to_string()));
            if let Some(secret) = secret {
                headers.push((SIGNATURE_HEADER, sign_json(secret, ts, &body)));
            }
            return Ok(Outgoing { url, headers, body });
        }
        WebhookKind::Wecom => json!({
            "msgtype": "markdown",
            "markdown": { "content": truncate_bytes(&markdown(alert), WECOM_MAX_BYTES) },
        }),
        WebhookKind::Dingtalk => {
            if let Some(secret) = secret {
                let ms = now.as_millisecond();
                let sign = dingtalk_sign(secret, ms);
                let sign = utf8_percent_encode(&sign, NON_ALPHANUMERIC);
                let sep = match url.chars().last() {
                    Some('?' | '&') => "",
                    _ if url.contains('?') => "&",
                    _ => "?",
                };
                url = format!("{url}{sep}timestamp={ms}&sign={sign}");
            }
            json!({
                "msgtype": "markdown",
                "markdown": {
                    "title": alert.title,
                    "text": truncate_bytes(&markdown(alert), CHAT_MAX_BYTES),
                },
            })
        }
        WebhookKind::Feishu => {
            let mut body = json!({
                "msg_type": "text",
                "content": { "text": truncate_bytes(&plain_text(alert), CHAT_MAX_BYTES) },
            });
            if let (Some(secret), Value::Object(map)) = (secret, &mut body) {
                let ts = now.as_second();
                map.insert("timestamp".into(), Value::String(ts.to_string()));
                map.insert("sign".into(), Value::String(feishu_sign(secret, ts)));
            }
            body
        }
    };
    Ok(Outgoing {
        url,
        headers,
        body: body.to_string(),
    })
}

/// `v1=<hex(HMAC-SHA256(secret, "{timestamp}.{body}"))>`, the `X-Tousu-Signature` value.
pub fn sign_json(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = hmac_sha256(secret.as_bytes());
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1={}", hex(&mac.finalize().into_bytes()))
}

/// Whether `header` (an `X-Tousu-Signature` value) signs `body` at `timestamp` (the
/// `X-Tousu-Timestamp` value, as received) with `secret`. Compares in constant time. Several
/// comma-separated `v1=` values are accepted, any one matching (for rotating secrets).
///
/// It does not look at the clock: a receiver should also reject a timestamp more than 5
/// minutes old.
pub fn verify_signature(secret: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    header
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .filter_map(unhex)
        .any(|expected| {
            let mut mac = hmac_sha256(secret.as_bytes());
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            mac.verify_slice(&expected).is_ok()
        })
}

/// 钉钉 加签: base64(HMAC-SHA256(key = secret, message = "{ms}\n{secret}")), before URL-encoding.
/// 钉钉 refuses a timestamp more than an hour off its clock.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let mut mac = hmac_sha256(secret.as_bytes());
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// 飞书 签名校验: base64(HMAC-SHA256(key = "{seconds}\n{secret}", message = empty)). Note the
/// key/message roles are the reverse of 钉钉's.
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    let mac = hmac_sha256(format!("{timestamp_s}\n{secret}").as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// Judges a webhook's answer: a 2xx, and for the chat robots (which answer 200 to refusals
/// too) an `errcode`/`code` of 0 when the body has one. `Err` says why, for `last_error`.
pub fn check_response(
    kind: WebhookKind,
    status: u16,
    body: &str,
) -> std::result::Result<(), String> {
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}: {}", snippet(body)));
    }
    if kind == WebhookKind::Json {
        return Ok(());
    }
    let Ok(Value::Object(answer)) = serde_json::from_str::<Value>(body) else {
        return Ok(());
    };
    // 企业微信/钉钉: errcode + errmsg; 飞书: code + msg (older bots: StatusCode + StatusMessage).
    for (code, message) in [
        ("errcode", "errmsg"),
        ("code", "msg"),
        ("StatusCode", "StatusMessage"),
    ] {
        if let Some(value) = answer.get(code)
            && value.as_i64() != Some(0)
        {
            let message = answer.get(message).and_then(Value::as_str).unwrap_or("");
            return Err(format!("{code} {value}: {}", snippet(message)));
        }
    }
    Ok(())
}

/// The markdown both 企业微信 and 钉钉 render: title, severity and rule (and department), time,
/// the summary.
fn markdown(alert: &Alert) -> String {
    let department = alert
        .department
        .as_ref()
        .map_or(String::new(), |d| format!("　**部门**：{d}"));
    format!(
        "### {}\n**级别**：{}　**规则**：{}{department}\n**时间**：{}\n\n{}\n\n> 告警编号 {}",
        alert.title,
        alert.severity,
        alert.rule,
        beijing_time(alert.created_at),
        alert.summary,
        alert.id
    )
}

/// 飞书 text messages do not render markdown.
fn plain_text(alert: &Alert) -> String {
    let department = alert
        .department
        .as_ref()
        .map_or(String::new(), |d| format!("　部门：{d}"));
    format!(
        "【{}】{}\n规则：{}{department}　时间：{}\n\n{}\n\n告警编号 {}",
        alert.severity,
        alert.title,
        alert.rule,
        beijing_time(alert.created_at),
        alert.summary,
        alert.id
    )
}

fn beijing_time(at: Timestamp) -> String {
    at.to_zoned(beijing())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn snippet(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(ERROR_BODY_CHARS) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_string(),
    }
}

fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    // HMAC hashes long keys and pads short ones: no key length is invalid.
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            id: "AL1763800000123-7".into(),
            rule: "topic_surge".into(),
            key: "topic:T123".into(),
            fingerprint: "b3:严重".into(),
            title: "热点话题：魅力之城小区 噪音扰民（7 天 23 件，增长 5.2 倍）".into(),
            summary: "- 关键词：噪音、夜间施工\n- 样例：TS20261122-000001".into(),
            severity: "严重".into(),
            department: None,
            created_at: "2026-11-22T02:30:00Z".parse().expect("timestamp"),
            data: json!({"topic": "T123", "count": 23}),
        }
    }

    fn hook(kind: WebhookKind, url: &str, secret: Option<&str>) -> Webhook {
        Webhook {
            name: "w".into(),
            kind,
            url: url.into(),
            secret: secret.map(str::to_string),
            ..Webhook::default()
        }
    }

    fn now() -> Timestamp {
        Timestamp::from_millisecond(1_763_800_000_123).expect("timestamp")
    }

    fn header<'a>(out: &'a Outgoing, name: &str) -> Option<&'a str> {
        out.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn json_signature_matches_an_independent_hmac() {
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test",
        //   b"1763800000.{\"a\":1}", hashlib.sha256).hexdigest())'
        assert_eq!(
            sign_json("whsec_test", 1_763_800_000, r#"{"a":1}"#),
            "v1=a9db224a1f1edc1efb4bc38736f479db59ccd2613c200c27818ef7a6b0e26a39"
        );
    }

    #[test]
    fn json_webhook_is_the_alert_signed() {
        let out = render(
            &hook(WebhookKind::Json, "http://r/x", Some("k")),
            &alert(),
            "AL1-1",
            now(),
        )
        .expect("render");
        let back: Alert = serde_json::from_str(&out.body).expect("body is the alert");
        assert_eq!(back, alert());
        assert_eq!(out.url, "http://r/x");
        assert_eq!(header(&out, DELIVERY_HEADER), Some("AL1-1"));
        let ts = header(&out, TIMESTAMP_HEADER).expect("timestamp header");
        assert_eq!(ts, "1763800000");
        let sig = header(&out, SIGNATURE_HEADER).expect("signature header");
        assert!(verify_signature("k", ts, out.body.as_bytes(), sig));
        assert!(!verify_signature("k", ts, b"{\"tampered\":1}", sig));
        assert!(!verify_signature(
            "k",
            "1763800001",
            out.body.as_bytes(),
            sig
        ));
        assert!(!verify_signature("other", ts, out.body.as_bytes(), sig));
        assert!(!verify_signature("k", ts, out.body.as_bytes(), "v1=zz"));
        // Rotation: an old and a new signature side by side.
        assert!(verify_signature(
            "k",
            ts,
            out.body.as_bytes(),
            &format!("v1=00ff, {sig}")
        ));
    }

    #[test]
    fn json_webhook_without_secret_is_unsigned() {
        let out = render(
            &hook(WebhookKind::Json, "http://r/", None),
            &alert(),
            "d",
            now(),
        )
        .expect("render");
        assert!(header(&out, SIGNATURE_HEADER).is_none());
        assert!(header(&out, TIMESTAMP_HEADER).is_some());
    }

    #[test]
    fn wecom_is_markdown_within_4096_bytes() {
        let out = render(
            &hook(
                WebhookKind::Wecom,
                "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
                None,
            ),
            &alert(),
            "d",
            now(),
        )
        .expect("render");
        let body: Value = serde_json::from_str(&out.body).expect("json");
        assert_eq!(body["msgtype"], "markdown");
        let content = body["markdown"]["content"].as_str().expect("content");
        assert!(content.contains("魅力之城小区"));
        assert!(
            content.contains("2026-11-22 10:30"),
            "Beijing time: {content}"
        );

        let mut long = alert();
        long.summary = "噪".repeat(3000); // 9,000 bytes
        let out = render(
            &hook(WebhookKind::Wecom, "https://q/", None),
            &long,
            "d",
            now(),
        )
        .expect("render");
        let body: Value = serde_json::from_str(&out.body).expect("json");
        let content = body["markdown"]["content"].as_str().expect("content");
        assert!(content.len() <= WECOM_MAX_BYTES && content.len() > WECOM_MAX_BYTES - 4);
    }

    #[test]
    fn dingtalk_sign_matches_an_independent_hmac() {
        // python3: base64.b64encode(hmac.new(b"SEC0123456789abcdef",
        //   b"1763800000123\nSEC0123456789abcdef", hashlib.sha256).digest())
        assert_eq!(
            dingtalk_sign("SEC0123456789abcdef", 1_763_800_000_123),
            "rTVgQ6Lko20Tzc5yZCoHjfEATkVJvurZn+CqbnhW9rQ="
        );
    }

    #[test]
    fn dingtalk_signs_the_url_and_sends_markdown() {
        let base = "https://oapi.dingtalk.com/robot/send?access_token=t";
        let out = render(
            &hook(WebhookKind::Dingtalk, base, Some("SEC0123456789abcdef")),
            &alert(),
            "d",
            now(),
        )
        .expect("render");
        // urllib.parse.quote_plus of the signature above.
        assert_eq!(
            out.url,
            format!(
                "{base}&timestamp=1763800000123&sign=rTVgQ6Lko20Tzc5yZCoHjfEATkVJvurZn%2BCqbnhW9rQ%3D"
            )
        );
        let body: Value = serde_json::from_str(&out.body).expect("json");
        assert_eq!(body["msgtype"], "markdown");
        assert_eq!(body["markdown"]["title"], alert().title);
        assert!(
            body["markdown"]["text"]
                .as_str()
                .expect("text")
                .contains("噪音")
        );

        let bare = render(
            &hook(WebhookKind::Dingtalk, "https://d/robot/send", Some("s")),
            &alert(),
            "d",
            now(),
        )
        .expect("render");
        assert!(
            bare.url
                .starts_with("https://d/robot/send?timestamp=1763800000123&sign=")
        );
        let unsigned = render(
            &hook(WebhookKind::Dingtalk, base, None),
            &alert(),
            "d",
            now(),
        )
        .expect("render");
        assert_eq!(unsigned.url, base);
    }

    #[test]
    fn feishu_sign_matches_an_independent_hmac() {
        // python3: base64.b64encode(hmac.new(b"1763800000\nfeishu-secret", b"",
        //   hashlib.sha256).digest())
        assert_eq!(
            feishu_sign("feishu-secret", 1_763_800_000),
            "+KkSRFwkgJsNakQijYQvoByFHFTa6xgGVQ7PB8T7iqk="
        );
    }

    #[test]
    fn feishu_is_text_with_signature_in_the_body() {
        let out = render(
            &hook(
                WebhookKind::Feishu,
                "https://open.feishu.cn/open-apis/bot/v2/hook/x",
                Some("feishu-secret"),
            ),
            &alert(),
            "d",
            now(),
        )
        .expect("render");
        let body: Value = serde_json::from_str(&out.body).expect("json");
        assert_eq!(body["msg_type"], "text");
        assert!(
            body["content"]["text"]
                .as_str()
                .expect("text")
                .starts_with("【严重】热点话题")
        );
        assert_eq!(body["timestamp"], "1763800000");
        assert_eq!(body["sign"], "+KkSRFwkgJsNakQijYQvoByFHFTa6xgGVQ7PB8T7iqk=");

        let unsigned = render(
            &hook(WebhookKind::Feishu, "https://f/", None),
            &alert(),
            "d",
            now(),
        )
        .expect("render");
        let body: Value = serde_json::from_str(&unsigned.body).expect("json");
        assert!(body.get("sign").is_none());
    }

    #[test]
    fn chat_robots_refusing_with_200_are_failures() {
        assert!(check_response(WebhookKind::Wecom, 200, r#"{"errcode":0,"errmsg":"ok"}"#).is_ok());
        let err = check_response(
            WebhookKind::Dingtalk,
            200,
            r#"{"errcode":310000,"errmsg":"sign not match"}"#,
        )
        .expect_err("refused");
        assert!(
            err.contains("310000") && err.contains("sign not match"),
            "{err}"
        );
        assert!(
            check_response(
                WebhookKind::Feishu,
                200,
                r#"{"code":19021,"msg":"sign match fail"}"#
            )
            .is_err()
        );
        assert!(check_response(WebhookKind::Feishu, 200, r#"{"StatusCode":0,"code":0}"#).is_ok());
        // A generic receiver's body means whatever it means.
        assert!(check_response(WebhookKind::Json, 200, r#"{"code":7}"#).is_ok());
        assert!(
            check_response(WebhookKind::Json, 503, "busy")
                .expect_err("5xx")
                .contains("503")
        );
    }

    #[test]
    fn truncates_on_a_char_boundary() {
        assert_eq!(truncate_bytes("噪音扰民", 7), "噪音");
        assert_eq!(truncate_bytes("abc", 7), "abc");
    }
}
