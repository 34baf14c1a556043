//! Auditable grade rules: phrases and patterns per reason code, each implying a grade. A rule
//! only ever raises the model's grade; the result says which rule fired on which phrase.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::domain::{Grade, Reason};
use crate::error::{Error, Result};

/// The rules section of a profile, as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSpec {
    /// Words that cancel a phrase when they stand just before it.
    #[serde(default)]
    negations: Vec<String>,
    /// How many characters before a phrase are searched for a negation.
    #[serde(default)]
    negation_window: usize,
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    reason: Reason,
    grade: Grade,
    #[serde(default)]
    phrases: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
}

/// One rule that fired: why, what grade it implies, and on which words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleHit {
    /// The reason code of the rule.
    pub reason: Reason,
    /// The grade the rule implies.
    pub grade: Grade,
    /// The words of the complaint that matched.
    pub phrase: String,
    /// Character offset of the match in the text the rules ran on; absent for a signal found
    /// outside the text (a repeat or group link), whose `phrase` then names the linked cases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
}

#[derive(Debug, Clone)]
struct Rule {
    reason: Reason,
    grade: Grade,
    matcher: Regex,
}

/// Compiled grade rules, in the guideline's order of checking.
#[derive(Debug, Clone)]
pub struct GradeRules {
    rules: Vec<Rule>,
    negations: Vec<String>,
    negation_window: usize,
}

impl GradeRules {
    /// Compiles a rules section; `extra` and `extra_patterns` add phrases and patterns to the
    /// rule of each named reason.
    pub fn from_spec(
        spec: RulesSpec,
        extra: &BTreeMap<Reason, Vec<String>>,
        extra_patterns: &BTreeMap<Reason, Vec<String>>,
    ) -> Result<Self> {
        let mut rules = Vec::with_capacity(spec.rules.len());
        for r in spec.rules {
            let phrases = r
                .phrases
                .iter()
                .chain(extra.get(&r.reason).into_iter().flatten())
                .filter(|p| !p.trim().is_empty())
                .map(|p| regex::escape(p.trim()));
            let alternatives: Vec<String> = phrases
                .chain(r.patterns.iter().cloned())
                .chain(extra_patterns.get(&r.reason).into_iter().flatten().cloned())
                .collect();
            if alternatives.is_empty() {
                continue;
            }
            let matcher = Regex::new(&format!("(?:{})", alternatives.join("|")))
                .map_err(|e| Error::Invalid(format!("rule `{}`: bad pattern: {e}", r.reason)))?;
            rules.push(Rule {
                reason: r.reason,
                grade: r.grade,
                matcher,
            });
        }
        rules.sort_by_key(|r| r.reason);
        Ok(GradeRules {
            rules,
            negations: spec.negations,
            negation_window: spec.negation_window,
        })
    }

    /// Every rule that fires on `text` (its first un-negated match), in the guideline's order.
    pub fn apply(&self, text: &str) -> Vec<RuleHit> {
        self.rules
            .iter()
            .filter_map(|rule| {
                rule.matcher
                    .find_iter(text)
                    .find(|m| !self.negated(text, m.start()))
                    .map(|m| RuleHit {
                        reason: rule.reason,
                        grade: rule.grade,
                        phrase: m.as_str().to_string(),
                        start: Some(text[..m.start()].chars().count()),
                    })
            })
            .collect()
    }

    fn negated(&self, text: &str, byte_start: usize) -> bool {
        let before = &text[..byte_start];
        let from = before
            .char_indices()
            .rev()
            .nth(self.negation_window.saturating_sub(1))
            .map_or(0, |(i, _)| i);
        let window = &before[from..];
        self.negations.iter().any(|n| window.contains(n.as_str()))
    }
}

/// The grade after rules: the model's, raised to the highest grade any rule implies.
/// Returns the grade and the hit that decided it (the first, in guideline order, at that
/// grade), or `None` when the model's grade stands.
pub fn raise(model: Grade, hits: &[RuleHit]) -> (Grade, Option<&RuleHit>) {
    let top = hits.iter().map(|h| h.grade).max();
    match top {
        Some(g) if g > model => (g, hits.iter().find(|h| h.grade == g)),
        _ => (model, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Profile;

    fn rules() -> GradeRules {
        Profile::builtin("telecom").unwrap().rules
    }

    #[test]
    fn fires_with_reason_and_phrase() {
        let hits = rules().apply("家里燃气泄漏，已经多次反映");
        assert_eq!(hits[0].reason, Reason::Safety);
        assert_eq!(hits[0].phrase, "燃气泄漏");
        assert_eq!(hits[0].start, Some(2));
        assert!(hits.iter().any(|h| h.reason == Reason::Repeat));
    }

    #[test]
    fn negated_phrase_does_not_fire() {
        assert!(
            !rules()
                .apply("经检查没有安全隐患")
                .iter()
                .any(|h| h.reason == Reason::Safety)
        );
    }

    #[test]
    fn group_pattern_needs_filled_template() {
        let r = rules();
        let filled = r.apply("已持续半个月，周围客户情况一样信号差");
        assert!(filled.iter().any(|h| h.reason == Reason::Group));
        let blank = r.apply("周围客户情况（周围客户情况）");
        assert!(!blank.iter().any(|h| h.reason == Reason::Group));
    }

    #[test]
    fn rules_raise_but_never_lower() {
        let hits = rules().apply("客户强烈不满");
        assert_eq!(raise(Grade::General, &hits).0, Grade::Serious);
        assert_eq!(raise(Grade::Major, &hits), (Grade::Major, None));
        assert_eq!(raise(Grade::Serious, &[]), (Grade::Serious, None));
    }

    #[test]
    fn big_loss_amounts() {
        let r = rules();
        for t in ["损失了3万元", "被骗走12000元", "花费九十多万元"] {
            let hits = r.apply(t);
            assert!(
                hits.iter().any(|h| h.grade == Grade::Major),
                "{t}: {hits:?}"
            );
        }
        assert!(
            !r.apply("千万不要再扣费")
                .iter()
                .any(|h| h.reason == Reason::BigLoss)
        );
    }
}
