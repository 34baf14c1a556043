//! Tunable thresholds of the case service, as read from the `[duplicates]` and
//! `[suggestions]` sections of `tousu.toml`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Repeat, near-duplicate and group-complaint detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DuplicateSettings {
    /// A repeat is the same complainant within this many days…
    pub repeat_days: u32,
    /// …on a matter at least this similar (character-bigram cosine, 0–1).
    pub repeat_similarity: f32,
    /// Near duplicates are looked for among cases received within this many days.
    pub near_duplicate_days: u32,
    /// A group complaint is this many different complainants or more…
    pub group_min_complainants: usize,
    /// …within this many days…
    pub group_window_days: u32,
    /// …on an issue at least this similar.
    pub group_similarity: f32,
}

impl Default for DuplicateSettings {
    fn default() -> Self {
        DuplicateSettings {
            repeat_days: 30,
            repeat_similarity: 0.3,
            near_duplicate_days: 30,
            group_min_complainants: 5,
            group_window_days: 7,
            group_similarity: 0.5,
        }
    }
}

/// Similar cases and resolution suggestions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SuggestionSettings {
    /// Similar cases returned with a triage.
    pub similar: usize,
    /// Resolutions suggested with a triage.
    pub suggestions: usize,
}

impl Default for SuggestionSettings {
    fn default() -> Self {
        SuggestionSettings {
            similar: 5,
            suggestions: 3,
        }
    }
}

impl DuplicateSettings {
    /// Checks the values are usable.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("repeat_similarity", self.repeat_similarity),
            ("group_similarity", self.group_similarity),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::Invalid(format!(
                    "duplicates.{name} is {v}: it is a similarity between 0 and 1"
                )));
            }
        }
        if self.group_min_complainants < 2 {
            return Err(Error::Invalid(
                "duplicates.group_min_complainants must be at least 2".into(),
            ));
        }
        Ok(())
    }
}
