//! Plain data types shared by every layer: grades, reason codes, PII kinds, cases and the
//! vocabulary of handling them.

mod alert;
mod case;
mod case_id;
mod change;
mod dispatch;
mod event;
mod facts;
mod grade;
mod handling;
mod limit;
mod neighbour;
mod pii_kind;
mod reason;
mod record;
mod role;
mod status;
mod time;

pub use self::alert::{Alert, AlertRecord, DeliveryRecord, DeliveryStatus};
pub use self::case::{AuditEvent, Case, Correction, Corrections, Intake, Links, TriageRecord};
pub use self::case_id::CaseId;
pub use self::change::{ActionRequest, CasePatch};
pub use self::dispatch::{Dispatch, DispatchOption, DispatchSource};
pub use self::event::{CaseEvent, EventType};
pub use self::facts::{CaseFacts, DeadlineFact, summary_of};
pub use self::grade::Grade;
pub use self::handling::{Channel, Remedy};
pub use self::limit::Limit;
pub use self::neighbour::Neighbour;
pub use self::pii_kind::PiiKind;
pub use self::reason::Reason;
pub use self::record::{
    ContactAttempt, Deadline, DeadlineState, Extension, FollowUp, HandlingRecord, Note, Pause,
    RemedyGiven, Returned, Satisfaction, Step,
};
pub use self::role::Role;
pub use self::status::{Action, Status};
pub use self::time::{
    api_time, beijing, beijing_day_code, full_date, parse_api_time, parse_time, period_bound,
};
