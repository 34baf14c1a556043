//! A time limit as a policy writes it: `"1 hour"`, `"24 hours"`, `"8 working hours"`,
//! `"5 working days"` (or a bare number of working days, as earlier profiles wrote it).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How long a step may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Clock hours, day and night (an emergency: 2 hours).
    Hours(u32),
    /// Hours within the working hours of working days (签收 within 4 working hours).
    WorkingHours(u32),
    /// Working days after the day of receipt, to the end of the last one ("自受理之日起 5 个工作
    /// 日内"); 0 is the end of the day of receipt.
    WorkingDays(u32),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, unit) = match *self {
            Limit::Hours(n) => (n, "hour"),
            Limit::WorkingHours(n) => (n, "working hour"),
            Limit::WorkingDays(n) => (n, "working day"),
        };
        write!(f, "{n} {unit}{}", if n == 1 { "" } else { "s" })
    }
}

impl FromStr for Limit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (n, unit) = s
            .split_once(' ')
            .ok_or_else(|| format!("time limit {s:?}: write it like \"24 hours\", \"8 working hours\" or \"5 working days\""))?;
        let n: u32 = n
            .parse()
            .map_err(|_| format!("time limit {s:?}: {n:?} is not a whole number"))?;
        let limit = match unit.trim() {
            "hour" | "hours" => Limit::Hours(n),
            "working hour" | "working hours" => Limit::WorkingHours(n),
            "working day" | "working days" => Limit::WorkingDays(n),
            other => {
                return Err(format!(
                    "time limit {s:?}: unit {other:?} is not hours, working hours or working days"
                ));
            }
        };
        // A year of working days is about 250: anything longer is surely a typo.
        let max = match limit {
            Limit::Hours(_) | Limit::WorkingHours(_) => 24 * 366,
            Limit::WorkingDays(_) => 366,
        };
        if n > max {
            return Err(format!(
                "time limit {s:?} is longer than a year: surely a typo"
            ));
        }
        Ok(limit)
    }
}

impl Serialize for Limit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor, not an untagged enum: every stored case's deadlines hold limits, and an
        // untagged enum buffers each one and builds an error for the variant that fails.
        struct Written;
        impl serde::de::Visitor<'_> for Written {
            type Value = Limit;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of working days or text like \"8 working hours\"")
            }

            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Limit, E> {
                format!("{n} working days").parse().map_err(E::custom)
            }

            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Limit, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom(format!("a limit of {n} days: give 0 or more")))
                    .and_then(|n| self.visit_u64(n))
            }

            fn visit_str<E: serde::de::Error>(self, t: &str) -> Result<Limit, E> {
                t.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_a_policy_writes() {
        assert_eq!("1 hour".parse(), Ok(Limit::Hours(1)));
        assert_eq!("24 hours".parse(), Ok(Limit::Hours(24)));
        assert_eq!("8 working hours".parse(), Ok(Limit::WorkingHours(8)));
        assert_eq!("5 working days".parse(), Ok(Limit::WorkingDays(5)));
        assert_eq!(Limit::WorkingDays(1).to_string(), "1 working day");
        let days: Limit = serde_json::from_str("15").unwrap();
        assert_eq!(days, Limit::WorkingDays(15));
        let typo = serde_json::from_str::<Limit>("900")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("typo"), "{typo}");
        assert!(serde_json::from_str::<Limit>("-1").is_err());
        let hours: Limit = serde_json::from_str("\"4 working hours\"").unwrap();
        assert_eq!(hours, Limit::WorkingHours(4));
        assert!("5 days".parse::<Limit>().unwrap_err().contains("unit"));
        assert!("five hours".parse::<Limit>().is_err());
        assert!(
            "900 working days"
                .parse::<Limit>()
                .unwrap_err()
                .contains("typo")
        );
        assert_eq!(
            serde_json::to_string(&Limit::WorkingHours(4)).unwrap(),
            "\"4 working hours\""
        );
    }
}
