//! Limits on requests: sizes, batches, time-outs, inference slots, exports, and how far a
//! `received_at` may be from the server's clock.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::service::tools::MAX_SHEET_ROWS;
use crate::service::{ExportLimits, IntakeLimits};

/// Most clock skew `limits.received_at_max_future_secs` may allow: a day.
const MAX_FUTURE_SECS_LIMIT: u64 = 86_400;
/// Limits on requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body, in bytes (the batch endpoint allows `max_batch` times this, up
    /// to 64 MiB).
    pub body_bytes: usize,
    /// Longest complaint text, in characters.
    pub text_chars: usize,
    /// Most cases in one batch.
    pub max_batch: usize,
    /// Seconds before a request is answered 503 `timeout`.
    pub request_timeout_secs: u64,
    /// Requests running the model at once.
    pub inference_concurrency: usize,
    /// Requests that may wait for a model slot; past this, 503 with `Retry-After`.
    pub inference_queue: usize,
    /// Seconds a `received_at` or `occurred_at` may be ahead of this server's clock.
    pub received_at_max_future_secs: u64,
    /// The earliest `received_at` or `occurred_at` accepted (RFC 3339).
    pub received_at_earliest: jiff::Timestamp,
    /// Seconds requests may still run after SIGTERM before the server stops anyway.
    pub shutdown_grace_secs: u64,
    /// Most cases one CSV export over the API selects (it is streamed; past it, 422).
    pub export_rows: u64,
    /// Most cases one xlsx export selects (it is built in memory; past it, 422).
    pub export_xlsx_rows: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 256 * 1024,
            text_chars: 50_000,
            max_batch: 1000,
            request_timeout_secs: 30,
            inference_concurrency: 4,
            inference_queue: 64,
            received_at_max_future_secs: IntakeLimits::default().max_future.as_secs() as u64,
            received_at_earliest: IntakeLimits::default().earliest,
            shutdown_grace_secs: 10,
            export_rows: ExportLimits::default().csv_rows,
            export_xlsx_rows: ExportLimits::default().xlsx_rows,
        }
    }
}

impl Limits {
    /// The intake limits these imply.
    pub fn intake(&self) -> IntakeLimits {
        IntakeLimits {
            max_text_chars: self.text_chars,
            max_future: jiff::SignedDuration::from_secs(
                i64::try_from(self.received_at_max_future_secs).unwrap_or(i64::MAX),
            ),
            earliest: self.received_at_earliest,
            ..IntakeLimits::default()
        }
    }

    /// The export limits these imply.
    pub fn export(&self) -> ExportLimits {
        ExportLimits {
            csv_rows: self.export_rows,
            xlsx_rows: self.export_xlsx_rows,
        }
    }

    /// Checks the limits are usable.
    pub(super) fn validate(&self) -> Result<()> {
        if self.received_at_max_future_secs > MAX_FUTURE_SECS_LIMIT {
            return Err(Error::Invalid(format!(
                "limits.received_at_max_future_secs is {}: at most {MAX_FUTURE_SECS_LIMIT} (a day) — a complaint is not received in the future",
                self.received_at_max_future_secs
            )));
        }
        if self.export_rows == 0 || !(1..=MAX_SHEET_ROWS).contains(&self.export_xlsx_rows) {
            return Err(Error::Invalid(format!(
                "limits.export_rows must be positive and limits.export_xlsx_rows from 1 to {MAX_SHEET_ROWS} (a sheet's rows)"
            )));
        }
        if self.inference_concurrency == 0 || self.max_batch == 0 || self.request_timeout_secs == 0
        {
            return Err(Error::Invalid(
                "limits.inference_concurrency, max_batch and request_timeout_secs must be positive"
                    .into(),
            ));
        }
        Ok(())
    }
}
