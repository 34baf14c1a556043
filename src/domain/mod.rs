//! Plain data types shared by every layer: grades, reason codes, PII kinds.

mod grade;
mod pii_kind;
mod reason;

pub use self::grade::Grade;
pub use self::pii_kind::PiiKind;
pub use self::reason::Reason;
