use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A complaint's grade (分级), lowest to highest. Ordered: `General < Serious < Major`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Grade {
    /// 一般: questions, requests, single minor inconveniences.
    #[serde(rename = "一般")]
    General,
    /// 严重: repeated complaints, money lost, strong anger, outages, violations.
    #[serde(rename = "严重")]
    Serious,
    /// 重大: safety, group complaints, external escalation, security, large losses.
    #[serde(rename = "重大")]
    Major,
}

impl Grade {
    /// All grades, lowest first; a grade's index here is its class id in the model.
    pub const ALL: [Grade; 3] = [Grade::General, Grade::Serious, Grade::Major];

    /// The Chinese label used in data files and the API.
    pub fn label(self) -> &'static str {
        match self {
            Grade::General => "一般",
            Grade::Serious => "严重",
            Grade::Major => "重大",
        }
    }

    /// Class id of this grade in the model's grade head.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The grade with class id `i`, if any.
    pub fn from_index(i: usize) -> Option<Grade> {
        Grade::ALL.get(i).copied()
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Grade {
    type Err = String;

    /// Accepts the Chinese labels and the English names (`general`, `serious`, `major`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "一般" | "general" | "General" => Ok(Grade::General),
            "严重" | "serious" | "Serious" => Ok(Grade::Serious),
            "重大" | "major" | "Major" => Ok(Grade::Major),
            other => Err(format!(
                "unknown grade {other:?}: expected 一般, 严重 or 重大"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_order_and_round_trip() {
        assert!(Grade::General < Grade::Serious && Grade::Serious < Grade::Major);
        for g in Grade::ALL {
            assert_eq!(g.label().parse::<Grade>().unwrap(), g);
            assert_eq!(Grade::from_index(g.index()), Some(g));
        }
        assert!("紧急".parse::<Grade>().is_err());
    }
}
