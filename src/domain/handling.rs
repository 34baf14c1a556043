//! The vocabulary of case handling: channels, the process's statuses, remedies.

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

/// Where a case is in the handling process
/// (受理 → 分类分级 → 调查 → 处理 → 反馈 → 回访 → 归档).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 受理 and 分类分级 done: stored, triaged, routed.
    Triaged,
    /// 调查: the department is investigating.
    Investigating,
    /// 处理: a remedy is being carried out.
    Handling,
    /// 反馈: the complainant has been given the resolution.
    Replied,
    /// 回访: the follow-up call is done.
    FollowedUp,
    /// 归档: closed and archived; no further changes.
    Archived,
}

impl Status {
    /// Every status, in process order.
    pub const ALL: [Status; 6] = [
        Status::Triaged,
        Status::Investigating,
        Status::Handling,
        Status::Replied,
        Status::FollowedUp,
        Status::Archived,
    ];

    /// The API's code for the status.
    pub fn code(self) -> &'static str {
        match self {
            Status::Triaged => "triaged",
            Status::Investigating => "investigating",
            Status::Handling => "handling",
            Status::Replied => "replied",
            Status::FollowedUp => "followed_up",
            Status::Archived => "archived",
        }
    }

    /// The status with API code `code`.
    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether a case may move from `self` to `next`: forward through the process, or back to
    /// 处理 from 反馈 / 回访 when the complainant is not satisfied (重办). An archived case is
    /// final.
    pub fn can_move_to(self, next: Status) -> bool {
        match (self, next) {
            (Status::Archived, _) => false,
            (a, b) if b >= a => true,
            (Status::Replied | Status::FollowedUp, Status::Handling) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Status {
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
    fn status_moves_forward_or_reopens_but_never_leaves_archive() {
        assert!(Status::Triaged.can_move_to(Status::Replied));
        assert!(Status::Replied.can_move_to(Status::Handling));
        assert!(!Status::Handling.can_move_to(Status::Triaged));
        assert!(!Status::Archived.can_move_to(Status::Handling));
        assert!(!Status::Archived.can_move_to(Status::Archived));
    }

    #[test]
    fn codes_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::from_code(c.code()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.code()));
        }
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
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
