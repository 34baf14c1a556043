use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Grade;

/// Why a complaint has its grade: the reason codes of the grading guideline
/// (`../shared/datasets/urgency/GUIDELINE.md`), in the order the guideline checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Risk to life, health or physical safety.
    Safety,
    /// The same problem hits many people (群体投诉).
    Group,
    /// Gone, or threatening to go, to media, regulators, courts or police.
    External,
    /// Leaked personal information, fraud, stolen money, account takeover.
    Security,
    /// A loss of about 10,000 yuan or more, or of a livelihood or home.
    BigLoss,
    /// Repeated or escalated complaint.
    Repeat,
    /// A concrete money loss or unauthorised charge with a demand to refund.
    Money,
    /// Explicit strong anger or distress.
    Strong,
    /// An essential service cut or unusable for long or at a critical moment.
    Outage,
    /// Illegal or rule-breaking conduct to the person's detriment.
    Violation,
    /// None of the above (一般).
    None,
}

impl Reason {
    /// Every reason code, in the guideline's order of checking.
    pub const ALL: [Reason; 11] = [
        Reason::Safety,
        Reason::Group,
        Reason::External,
        Reason::Security,
        Reason::BigLoss,
        Reason::Repeat,
        Reason::Money,
        Reason::Strong,
        Reason::Outage,
        Reason::Violation,
        Reason::None,
    ];

    /// The snake_case code used in data files and the API.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Safety => "safety",
            Reason::Group => "group",
            Reason::External => "external",
            Reason::Security => "security",
            Reason::BigLoss => "big_loss",
            Reason::Repeat => "repeat",
            Reason::Money => "money",
            Reason::Strong => "strong",
            Reason::Outage => "outage",
            Reason::Violation => "violation",
            Reason::None => "none",
        }
    }

    /// The grade the guideline gives a complaint for this reason.
    pub fn guideline_grade(self) -> Grade {
        match self {
            Reason::Safety
            | Reason::Group
            | Reason::External
            | Reason::Security
            | Reason::BigLoss => Grade::Major,
            Reason::Repeat
            | Reason::Money
            | Reason::Strong
            | Reason::Outage
            | Reason::Violation => Grade::Serious,
            Reason::None => Grade::General,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Reason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::ALL
            .into_iter()
            .find(|r| r.code() == s.trim())
            .ok_or_else(|| {
                let known: Vec<_> = Reason::ALL.iter().map(|r| r.code()).collect();
                format!("unknown reason {s:?}: expected one of {}", known.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_grades_follow_guideline() {
        for r in Reason::ALL {
            assert_eq!(r.code().parse::<Reason>().unwrap(), r);
        }
        assert_eq!(Reason::Group.guideline_grade(), Grade::Major);
        assert_eq!(Reason::Money.guideline_grade(), Grade::Serious);
        assert!("urgent".parse::<Reason>().unwrap_err().contains("safety"));
    }
}
