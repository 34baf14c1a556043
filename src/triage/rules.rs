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
    /// Its phrases and patterns one by one, as written (phrases unescaped), with their regex.
    parts: Vec<(String, String)>,
}

/// How one phrase or pattern of a rule did on graded texts: how often it fired, and how often
/// the grade its rule implies was the labelled grade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulePartScore {
    /// The rule's reason code.
    pub reason: Reason,
    /// The grade the rule implies.
    pub grade: Grade,
    /// The phrase or pattern, as written in the profile.
    pub part: String,
    /// Texts it fired on (un-negated).
    pub fired: usize,
    /// Of those, texts labelled with the rule's grade.
    pub correct: usize,
    /// `correct / fired`.
    pub precision: f64,
    /// Of the texts it fired on, the share labelled at least the rule's grade: how often the
    /// floor it sets holds (a rule only raises a grade).
    pub floor_precision: f64,
}

/// Counts, per phrase and pattern, where the rules fire on graded texts and how often they are
/// right: which ones the policy should keep.
#[derive(Debug)]
pub struct RulePartScorer<'a> {
    rules: &'a GradeRules,
    parts: Vec<(usize, String, Regex)>,
    counts: Vec<(usize, usize, usize)>,
}

impl RulePartScorer<'_> {
    /// Counts the parts that fire on `text` (as the rules read it) for a text labelled `label`.
    pub fn observe(&mut self, text: &str, label: Grade) {
        for ((rule, _, re), (fired, correct, held)) in self.parts.iter().zip(&mut self.counts) {
            if re
                .find_iter(text)
                .any(|m| !self.rules.negated(text, m.start()))
            {
                let grade = self.rules.rules[*rule].grade;
                *fired += 1;
                *correct += usize::from(grade == label);
                *held += usize::from(label >= grade);
            }
        }
    }

    /// The parts that fired at least once, in the guideline's order, most fired first.
    pub fn finish(self) -> Vec<RulePartScore> {
        let mut out: Vec<RulePartScore> = self
            .parts
            .into_iter()
            .zip(self.counts)
            .filter(|(_, (fired, _, _))| *fired > 0)
            .map(|((rule, part, _), (fired, correct, held))| RulePartScore {
                reason: self.rules.rules[rule].reason,
                grade: self.rules.rules[rule].grade,
                part,
                fired,
                correct,
                precision: correct as f64 / fired as f64,
                floor_precision: held as f64 / fired as f64,
            })
            .collect();
        out.sort_by(|a, b| a.reason.cmp(&b.reason).then(b.fired.cmp(&a.fired)));
        out
    }
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
        Self::edited(spec, extra, extra_patterns, &BTreeMap::new())
    }

    /// As [`GradeRules::from_spec`], leaving out the phrases and patterns `dropped` names (as
    /// written) for each reason: a profile's own measurement of where a shared rule misleads.
    /// A dropped entry that no rule has is an error (a typo would keep the rule silently).
    pub fn edited(
        spec: RulesSpec,
        extra: &BTreeMap<Reason, Vec<String>>,
        extra_patterns: &BTreeMap<Reason, Vec<String>>,
        dropped: &BTreeMap<Reason, Vec<String>>,
    ) -> Result<Self> {
        for (reason, parts) in dropped {
            for part in parts {
                let known = spec.rules.iter().any(|r| {
                    r.reason == *reason
                        && (r.phrases.iter().any(|p| p.trim() == part) || r.patterns.contains(part))
                }) || extra
                    .get(reason)
                    .is_some_and(|x| x.iter().any(|p| p.trim() == part))
                    || extra_patterns.get(reason).is_some_and(|x| x.contains(part));
                if !known {
                    return Err(Error::Invalid(format!(
                        "`dropped.{reason}` names {part:?}, which no `{reason}` rule has"
                    )));
                }
            }
        }
        let kept = |reason: Reason, part: &str| {
            !dropped
                .get(&reason)
                .is_some_and(|d| d.iter().any(|x| x == part))
        };
        let mut rules = Vec::with_capacity(spec.rules.len());
        for r in spec.rules {
            let phrases = r
                .phrases
                .iter()
                .chain(extra.get(&r.reason).into_iter().flatten())
                .filter(|p| !p.trim().is_empty())
                .map(|p| (p.trim().to_string(), regex::escape(p.trim())));
            let parts: Vec<(String, String)> = phrases
                .chain(r.patterns.iter().map(|p| (p.clone(), p.clone())))
                .chain(
                    extra_patterns
                        .get(&r.reason)
                        .into_iter()
                        .flatten()
                        .map(|p| (p.clone(), p.clone())),
                )
                .filter(|(shown, _)| kept(r.reason, shown))
                .collect();
            let alternatives: Vec<&str> = parts.iter().map(|(_, re)| re.as_str()).collect();
            if alternatives.is_empty() {
                continue;
            }
            let matcher = Regex::new(&format!("(?:{})", alternatives.join("|")))
                .map_err(|e| Error::Invalid(format!("rule `{}`: bad pattern: {e}", r.reason)))?;
            rules.push(Rule {
                reason: r.reason,
                grade: r.grade,
                matcher,
                parts,
            });
        }
        rules.sort_by_key(|r| r.reason);
        Ok(GradeRules {
            rules,
            negations: spec.negations,
            negation_window: spec.negation_window,
        })
    }

    /// A scorer of each phrase and pattern on its own (each compiled apart, once).
    pub fn part_scorer(&self) -> RulePartScorer<'_> {
        let parts: Vec<(usize, String, Regex)> = self
            .rules
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                r.parts.iter().filter_map(move |(shown, re)| {
                    // Each part compiled as it was within the rule's alternation, which did.
                    Regex::new(re).ok().map(|re| (i, shown.clone(), re))
                })
            })
            .collect();
        let counts = vec![(0, 0, 0); parts.len()];
        RulePartScorer {
            rules: self,
            parts,
            counts,
        }
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

/// The rules that may raise the model's grade, and those held back: a rule whose grade is above
/// the model's raises it only where the model gives that grade or a higher one at least `need`
/// (its probabilities of 一般, 严重, 重大). Where the model all but rules a grade out, the rules
/// that ask for it were wrong more often than right (gov, out of fold: docs/models.md); a rule
/// at or under the model's grade raises nothing and stays as evidence.
pub fn admitted(
    hits: Vec<RuleHit>,
    model: Grade,
    probabilities: &[f32],
    need: f32,
) -> (Vec<RuleHit>, Vec<RuleHit>) {
    hits.into_iter()
        .partition(|h| admits(h.grade, model, probabilities, need))
}

/// Whether a rule asking for `rule` may raise the model's grade `model` ([`admitted`]).
pub fn admits(rule: Grade, model: Grade, probabilities: &[f32], need: f32) -> bool {
    need <= 0.0 || rule <= model || probabilities.iter().skip(rule.index()).sum::<f32>() >= need
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Profile;

    fn rules() -> GradeRules {
        Profile::builtin("telecom").unwrap().rules
    }

    #[test]
    fn a_rule_raises_only_where_the_model_gives_its_grade_enough() {
        let hits = rules().apply("家里燃气泄漏，已经再次反映");
        let safety = |hits: &[RuleHit]| hits.iter().any(|h| h.reason == Reason::Safety);
        assert!(safety(&hits) && hits.iter().any(|h| h.grade == Grade::Serious));
        // The model says 一般 and gives 重大 0.05: the 重大 rule is held back at 0.1, the 严重
        // one (0.25 for 严重 or higher) raises.
        let p = [0.75, 0.2, 0.05];
        let (raising, held) = admitted(hits.clone(), Grade::General, &p, 0.1);
        assert!(!safety(&raising) && safety(&held));
        assert_eq!(raise(Grade::General, &raising).0, Grade::Serious);
        // At 0.05, or with no need set, every rule raises.
        for need in [0.05, 0.0] {
            let (raising, held) = admitted(hits.clone(), Grade::General, &p, need);
            assert!(held.is_empty());
            assert_eq!(raise(Grade::General, &raising).0, Grade::Major);
        }
        // A rule at or under the model's grade is never held back, however little the model
        // gives that grade.
        let (_, held) = admitted(hits, Grade::Major, &[0.5, 0.45, 0.05], 0.5);
        assert!(held.is_empty());
        // "Or higher": a 严重 rule counts the model's 重大 too (0.08 + 0.12 ≥ 0.1).
        assert!(admits(
            Grade::Serious,
            Grade::General,
            &[0.8, 0.08, 0.12],
            0.1
        ));
        assert!(!admits(
            Grade::Major,
            Grade::General,
            &[0.8, 0.08, 0.12],
            0.15
        ));
    }

    #[test]
    fn fires_with_reason_and_phrase() {
        let hits = rules().apply("家里燃气泄漏，已经再次反映");
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
    fn each_part_is_scored_on_its_own() {
        let r = rules();
        let mut scorer = r.part_scorer();
        scorer.observe("家里燃气泄漏，很危险", Grade::Major);
        scorer.observe("楼道燃气泄漏", Grade::General);
        scorer.observe("经检查没有燃气泄漏", Grade::General);
        let scores = scorer.finish();
        let gas = scores.iter().find(|s| s.part == "燃气泄漏").unwrap();
        // The negated third text does not count.
        assert_eq!((gas.fired, gas.correct), (2, 1));
        assert!((gas.precision - 0.5).abs() < 1e-12);
        assert_eq!(gas.reason, Reason::Safety);
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
