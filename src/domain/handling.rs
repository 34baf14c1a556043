//! The vocabulary of case handling: channels and remedies (the process's statuses and steps
//! are in `status.rs`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a complaint came in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Call centre (电话).
    Phone,
    /// Web form (网站).
    Web,
    /// Mobile app (App).
    App,
    /// WeChat official account or mini-program (微信).
    Wechat,
    /// The 12345 government service hotline.
    #[serde(rename = "hotline_12345")]
    Hotline12345,
    /// The 12315 consumer-protection hotline.
    #[serde(rename = "hotline_12315")]
    Hotline12315,
    /// E-mail.
    Email,
    /// Letter (信件).
    Letter,
    /// In person (来访).
    Visit,
    /// Anything else, or not said.
    #[default]
    Other,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 10] = [
        Channel::Phone,
        Channel::Web,
        Channel::App,
        Channel::Wechat,
        Channel::Hotline12345,
        Channel::Hotline12315,
        Channel::Email,
        Channel::Letter,
        Channel::Visit,
        Channel::Other,
    ];

    /// The API's code for the channel.
    pub fn code(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Web => "web",
            Channel::App => "app",
            Channel::Wechat => "wechat",
            Channel::Hotline12345 => "hotline_12345",
            Channel::Hotline12315 => "hotline_12315",
            Channel::Email => "email",
            Channel::Letter => "letter",
            Channel::Visit => "visit",
            Channel::Other => "other",
        }
    }

    /// The channel with API code `code`.
    pub fn from_code(code: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.code() == code)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What was done for the complainant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Remedy {
    /// 道歉
    #[serde(rename = "道歉")]
    Apology,
    /// 补偿
    #[serde(rename = "补偿")]
    Compensation,
    /// 退款
    #[serde(rename = "退款")]
    Refund,
    /// 换货
    #[serde(rename = "换货")]
    Replacement,
    /// 维修
    #[serde(rename = "维修")]
    Repair,
    /// 解释说明
    #[serde(rename = "解释说明")]
    Explanation,
    /// 转办: passed to the department responsible.
    #[serde(rename = "转办")]
    Transfer,
}

impl Remedy {
    /// Every remedy.
    pub const ALL: [Remedy; 7] = [
        Remedy::Apology,
        Remedy::Compensation,
        Remedy::Refund,
        Remedy::Replacement,
        Remedy::Repair,
        Remedy::Explanation,
        Remedy::Transfer,
    ];

    /// The Chinese label used in the API and data files.
    pub fn label(self) -> &'static str {
        match self {
            Remedy::Apology => "道歉",
            Remedy::Compensation => "补偿",
            Remedy::Refund => "退款",
            Remedy::Replacement => "换货",
            Remedy::Repair => "维修",
            Remedy::Explanation => "解释说明",
            Remedy::Transfer => "转办",
        }
    }

    /// The remedy with label `label`.
    pub fn from_label(label: &str) -> Option<Remedy> {
        Remedy::ALL.into_iter().find(|r| r.label() == label)
    }
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::from_code(c.code()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.code()));
        }
        for r in Remedy::ALL {
            assert_eq!(Remedy::from_label(r.label()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.label())
            );
        }
    }
}
