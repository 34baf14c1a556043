use serde::{Deserialize, Serialize};

/// A kind of personal information that is masked before text is indexed, logged or modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// 手机号: mainland mobile number.
    Mobile,
    /// 身份证: resident identity card number (18 digits with checksum, or the old 15).
    IdCard,
    /// 银行卡: bank card number (16–19 digits passing Luhn).
    BankCard,
    /// 邮箱: e-mail address.
    Email,
}

impl PiiKind {
    /// The typed placeholder that replaces the value in masked text.
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::Mobile => "〔手机号〕",
            PiiKind::IdCard => "〔身份证〕",
            PiiKind::BankCard => "〔银行卡〕",
            PiiKind::Email => "〔邮箱〕",
        }
    }

    /// Whether `phrase` touches a placeholder or an upstream mask (`******`): such units say
    /// that something was masked, not why a complaint was judged as it was.
    pub fn touches_mask(phrase: &str) -> bool {
        phrase.contains(['〔', '〕', '*'])
    }
}
