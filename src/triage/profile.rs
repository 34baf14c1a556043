//! Profiles: a deployment's taxonomy and policy: its name, the terms of its training data, its
//! grade rules (`data/profiles/<name>.toml` + `common-rules.toml`), its routing and time limits,
//! and its handling process.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::rules::{GradeRules, RulesSpec};
use crate::domain::Reason;
use crate::error::{Error, Result};
use crate::handling::{Policy, PolicySpec, Process, ProcessSpec};

/// The shipped profiles, embedded so that the binary runs from any directory.
const BUILTIN: [(&str, &str); 2] = [
    ("telecom", include_str!("../../data/profiles/telecom.toml")),
    ("gov", include_str!("../../data/profiles/gov.toml")),
];
/// Grade rules every profile starts from.
const COMMON_RULES: &str = include_str!("../../data/profiles/common-rules.toml");

/// A profile file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    data_terms: String,
    /// Phrases added to the common rules, per reason.
    #[serde(default)]
    extra_phrases: BTreeMap<Reason, Vec<String>>,
    /// Patterns (Rust `regex`) added to the common rules, per reason.
    #[serde(default)]
    extra_patterns: BTreeMap<Reason, Vec<String>>,
    /// Phrases and patterns of the rules (common or extra) this profile leaves out, per reason:
    /// where measuring them on the profile's graded texts showed they mislead.
    #[serde(default)]
    dropped: BTreeMap<Reason, Vec<String>>,
    /// Replaces the common rules entirely when present.
    #[serde(default)]
    rules: Option<RulesSpec>,
    /// How the rules and the model make one grade.
    #[serde(default)]
    grade: GradeSection,
    /// Routing and time limits.
    #[serde(default)]
    policy: Option<PolicySpec>,
    /// The handling process: its steps, who takes them, root causes, approvals.
    #[serde(default)]
    process: Option<ProcessSpec>,
}

/// `[grade]` of a profile file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GradeSection {
    /// A rule raises the model's grade only where the model gives the rule's grade (or a
    /// higher one) at least this probability; 0: every rule raises.
    #[serde(default)]
    rules_min_model_probability: f32,
}

/// A loaded profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Profile name (`telecom`, `gov`, …).
    pub name: String,
    /// One line on what the profile is for.
    pub description: String,
    /// Where the training data comes from and its terms (for the model card).
    pub data_terms: String,
    /// The grade rules.
    pub rules: GradeRules,
    /// The least probability the model must give a rule's grade (or a higher one) for the
    /// rule to raise the grade to it ([`admitted`](super::rules::admitted)); 0: every rule.
    pub rules_min_model_probability: f32,
    /// Routing and time limits, when the profile sets them.
    pub policy: Option<Policy>,
    /// The handling process (none: cases stay as triaged).
    pub process: Process,
}

impl Profile {
    /// The names of the profiles built into the binary.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// A built-in profile by name, or a profile named like a model's that has no built-in
    /// file: the common rules alone.
    pub fn builtin(name: &str) -> Result<Profile> {
        match BUILTIN.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Self::parse(text, Path::new(&format!("data/profiles/{n}.toml"))),
            None => Ok(Profile {
                name: name.to_string(),
                description: String::new(),
                data_terms: String::new(),
                rules: GradeRules::from_spec(common_rules()?, &BTreeMap::new(), &BTreeMap::new())?,
                rules_min_model_probability: 0.0,
                policy: None,
                process: Process::none(),
            }),
        }
    }

    /// Reads a profile file.
    pub fn load(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    fn parse(text: &str, path: &Path) -> Result<Profile> {
        let file: ProfileFile =
            toml::from_str(text).map_err(|e| Error::bad_file(path, e.to_string()))?;
        let spec = match file.rules {
            Some(r) => r,
            None => common_rules()?,
        };
        let rules = GradeRules::edited(
            spec,
            &file.extra_phrases,
            &file.extra_patterns,
            &file.dropped,
        )
        .map_err(|e| Error::bad_file(path, e.to_string()))?;
        let need = file.grade.rules_min_model_probability;
        if !(0.0..1.0).contains(&need) {
            return Err(Error::bad_file(
                path,
                format!(
                    "[grade] rules_min_model_probability = {need}: give a probability at least 0 \
                     and under 1 (0: every rule raises)"
                ),
            ));
        }
        let policy = file
            .policy
            .map(Policy::from_spec)
            .transpose()
            .map_err(|e| Error::bad_file(path, e.to_string()))?;
        let process = file
            .process
            .map(Process::from_spec)
            .transpose()
            .map_err(|e| Error::bad_file(path, e.to_string()))?
            .unwrap_or_else(Process::none);
        Ok(Profile {
            name: file.name,
            description: file.description,
            data_terms: file.data_terms.trim().to_string(),
            rules,
            rules_min_model_probability: need,
            policy,
            process,
        })
    }
}

fn common_rules() -> Result<RulesSpec> {
    toml::from_str(COMMON_RULES)
        .map_err(|e| Error::bad_file("data/profiles/common-rules.toml", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_load() {
        for name in Profile::builtin_names() {
            let p = Profile::builtin(name).unwrap();
            assert_eq!(p.name, name);
            assert!(!p.data_terms.is_empty());
        }
        assert_eq!(Profile::builtin("custom").unwrap().name, "custom");
    }

    #[test]
    fn the_model_a_rule_needs_is_a_probability_under_one() {
        assert_eq!(
            Profile::builtin("telecom")
                .unwrap()
                .rules_min_model_probability,
            0.0
        );
        assert_eq!(
            Profile::builtin("gov").unwrap().rules_min_model_probability,
            0.1
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "name = \"x\"\n[grade]\nrules_min_model_probability = 0.25\n",
        )
        .unwrap();
        assert_eq!(
            Profile::load(&path).unwrap().rules_min_model_probability,
            0.25
        );
        for bad in ["1.0", "-0.1"] {
            std::fs::write(
                &path,
                format!("name = \"x\"\n[grade]\nrules_min_model_probability = {bad}\n"),
            )
            .unwrap();
            let err = Profile::load(&path).unwrap_err().to_string();
            assert!(err.contains("rules_min_model_probability"), "{err}");
        }
    }

    #[test]
    fn a_dropped_phrase_no_longer_fires_and_a_typo_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "name = \"x\"\n[dropped]\ngroup = [\"批量\"]\n").unwrap();
        let p = Profile::load(&path).unwrap();
        let fires = |p: &Profile, t: &str| {
            p.rules
                .apply(t)
                .iter()
                .any(|h| h.reason == crate::domain::Reason::Group)
        };
        assert!(!fires(&p, "客户反映批量停机"));
        assert!(fires(
            &Profile::builtin("custom").unwrap(),
            "客户反映批量停机"
        ));
        // The other phrases of the rule still fire.
        assert!(fires(&p, "整栋楼都停水了"));
        std::fs::write(&path, "name = \"x\"\n[dropped]\ngroup = [\"批 量\"]\n").unwrap();
        let err = Profile::load(&path).unwrap_err().to_string();
        assert!(err.contains("批 量") && err.contains("p.toml"), "{err}");
    }

    #[test]
    fn bad_profile_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "name = \"x\"\nextra_phrases = { urgent = [\"a\"] }\n",
        )
        .unwrap();
        let err = Profile::load(&path).unwrap_err().to_string();
        assert!(err.contains("p.toml"), "{err}");
    }
}
