//! Limits on one intake: what a request may hold before it is refused, naming the field.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::domain::Intake;
use crate::error::{Error, Result};

/// Limits on one intake. Texts over the engine's window are still accepted and processed on
/// its head + tail; past `max_text_chars` the request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeLimits {
    /// Longest text, in characters.
    pub max_text_chars: usize,
    /// Longest title, in characters.
    pub max_title_chars: usize,
    /// Longest contact, in characters.
    pub max_contact_chars: usize,
    /// Largest metadata object, in bytes of JSON.
    pub max_metadata_bytes: usize,
    /// How far ahead of this server's clock `received_at` and `occurred_at` may be: the
    /// clocks of intake systems drift, but a complaint is not received in the future.
    pub max_future: SignedDuration,
    /// The earliest `received_at` and `occurred_at` accepted: anything older is a typo or a
    /// default date (0001-01-01), and would number and sort the case wrongly.
    pub earliest: Timestamp,
}

/// The length of a JSON object's text, counted without making it.
fn json_len(object: &serde_json::Map<String, Value>) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    serde_json::to_writer(&mut n, object).expect("counting never fails");
    n.0
}

/// Default earliest time accepted: 2000-01-01 00:00 Beijing time.
const EARLIEST: &str = "1999-12-31T16:00:00Z";
/// Default clock skew allowed: five minutes.
const MAX_FUTURE_SECS: i64 = 300;

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            max_text_chars: 50_000,
            max_title_chars: 500,
            max_contact_chars: 100,
            max_metadata_bytes: 16 * 1024,
            max_future: SignedDuration::from_secs(MAX_FUTURE_SECS),
            earliest: EARLIEST.parse().expect("a valid timestamp"),
        }
    }
}

impl IntakeLimits {
    /// Checks an intake against the limits at time `now`, naming the field to fix.
    pub fn check(&self, intake: &Intake, now: Timestamp) -> Result<()> {
        self.check_lengths(intake)?;
        if let Some(m) = &intake.metadata {
            let n = json_len(m);
            if n > self.max_metadata_bytes {
                return Err(Error::Invalid(format!(
                    "`metadata` is {n} bytes of JSON; at most {} are accepted",
                    self.max_metadata_bytes
                )));
            }
        }
        for (field, at) in [
            ("received_at", intake.received_at),
            ("occurred_at", intake.occurred_at),
        ] {
            if let Some(at) = at {
                self.check_time(field, at, now)?;
            }
        }
        Ok(())
    }

    /// Checks the lengths of the intake's text, title and contact, naming the field to fix.
    pub fn check_lengths(&self, intake: &Intake) -> Result<()> {
        let too_long = |field: &str, n: usize, max: usize| {
            Error::Invalid(format!(
                "`{field}` has {n} characters; at most {max} are accepted"
            ))
        };
        let n = intake.text.chars().count();
        if n > self.max_text_chars {
            return Err(too_long("text", n, self.max_text_chars));
        }
        if let Some(t) = &intake.title {
            let n = t.chars().count();
            if n > self.max_title_chars {
                return Err(too_long("title", n, self.max_title_chars));
            }
        }
        if let Some(c) = &intake.contact {
            let n = c.chars().count();
            if n > self.max_contact_chars {
                return Err(too_long("contact", n, self.max_contact_chars));
            }
        }
        Ok(())
    }

    fn check_time(&self, field: &str, at: Timestamp, now: Timestamp) -> Result<()> {
        if at < self.earliest {
            return Err(Error::Invalid(format!(
                "`{field}` {at} is before {}, the earliest time accepted: send when the complaint was {}",
                self.earliest,
                if field == "received_at" {
                    "received"
                } else {
                    "about"
                }
            )));
        }
        if now
            .checked_add(self.max_future)
            .is_ok_and(|latest| at > latest)
        {
            return Err(Error::Invalid(format!(
                "`{field}` {at} is more than {} s ahead of this server's clock ({now}): send a time that has passed, with its UTC offset (e.g. +08:00)",
                self.max_future.as_secs()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_out_of_range_are_refused_naming_the_field() {
        let limits = IntakeLimits::default();
        let now: Timestamp = "2026-12-05T12:00:00Z".parse().unwrap();
        let at = |received: &str| Intake {
            text: "宽带断网".into(),
            received_at: Some(received.parse().unwrap()),
            ..Default::default()
        };
        assert!(limits.check(&at("2026-12-05T12:04:00Z"), now).is_ok());
        assert!(limits.check(&at("2001-01-01T00:00:00Z"), now).is_ok());
        let future = limits.check(&at("3000-01-01T00:00:00Z"), now).unwrap_err();
        assert!(future.to_string().contains("`received_at`"), "{future}");
        let ancient = limits.check(&at("0001-01-01T00:00:00Z"), now).unwrap_err();
        assert!(ancient.to_string().contains("`received_at`"), "{ancient}");
        let occurred = Intake {
            occurred_at: Some("2999-01-01T00:00:00Z".parse().unwrap()),
            ..at("2026-12-05T11:00:00Z")
        };
        assert!(
            limits
                .check(&occurred, now)
                .unwrap_err()
                .to_string()
                .contains("`occurred_at`")
        );
    }
}
