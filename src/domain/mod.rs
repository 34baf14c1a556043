//! Plain data types shared by every layer: grades, reason codes, PII kinds, cases and the
//! vocabulary of handling them.

mod alert;
mod case;
mod grade;
mod handling;
mod pii_kind;
mod reason;
mod time;

pub use self::alert::{Alert, AlertRecord, DeliveryRecord, DeliveryStatus};
pub use self::case::{
    AuditEvent, Case, CaseId, CasePatch, Correction, Corrections, Intake, Links, TriageRecord,
};
pub use self::grade::Grade;
pub use self::handling::{Channel, Remedy, Status};
pub use self::pii_kind::PiiKind;
pub use self::reason::Reason;
pub use self::time::{api_time, beijing, beijing_day_code, parse_api_time, parse_time};
