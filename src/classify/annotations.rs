//! Grades kept apart from their texts. The project's own annotations name a text of the shared
//! data sets by its id (the texts may not be copied into the repository) and give its grade,
//! its reason code and what each annotation pass said; `tousu split --annotations` joins them
//! onto the texts, and [`agreement`] recomputes how far the two independent passes agreed.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Example;
use crate::domain::Grade;
use crate::error::{Error, Result};

/// One annotated text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotation {
    /// The text's id in the shared data set.
    pub id: String,
    /// Which set the text is from (`tipdm`, `hotspots`, `cocc`).
    pub source: String,
    /// The settled grade.
    pub grade: Grade,
    /// The settled reason code (the guideline's: `safety`, `repeat`, …, `none`).
    pub reason: String,
    /// The first pass's grade and reason.
    pub pass_a: Judgement,
    /// The second pass's grade and reason, made without seeing the first.
    pub pass_b: Judgement,
    /// The third pass's, where the first two disagreed on the grade or the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_c: Option<Judgement>,
}

/// A grade and its reason, as one pass gave them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Judgement {
    /// The grade.
    pub grade: Grade,
    /// The reason code.
    pub reason: String,
}

/// Reads annotations (JSON Lines); a malformed line is an error naming the file and line.
pub fn load_annotations(path: &Path) -> Result<Vec<Annotation>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let a: Annotation = serde_json::from_str(&line).map_err(|e| Error::BadLine {
            path: path.to_path_buf(),
            line: i + 1,
            message: format!(
                "{e} (expected an annotation: id, source, grade, reason, pass_a, pass_b)"
            ),
        })?;
        out.push(a);
    }
    Ok(out)
}

/// What [`attach`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Attached {
    /// Annotations whose grade went onto a text.
    pub joined: usize,
    /// Annotations whose text already had a different grade (the text's own is kept).
    pub conflicting: Vec<String>,
    /// Annotations naming no text among the examples.
    pub unmatched: Vec<String>,
}

/// Gives each annotation's grade and reason to the example with its id.
pub fn attach(examples: &mut [Example], annotations: &[Annotation]) -> Attached {
    let by_id: HashMap<String, usize> = examples
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.id.clone().map(|id| (id, i)))
        .collect();
    let mut out = Attached::default();
    for a in annotations {
        let Some(&i) = by_id.get(&a.id) else {
            out.unmatched.push(a.id.clone());
            continue;
        };
        let e = &mut examples[i];
        match e.grade {
            Some(g) if g != a.grade => out.conflicting.push(a.id.clone()),
            _ => {
                e.grade = Some(a.grade);
                e.reason = Some(a.reason.clone());
                out.joined += 1;
            }
        }
    }
    out
}

/// How far two passes agreed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    /// Items both passes judged.
    pub items: usize,
    /// Share with the same grade.
    pub grade_agreement: f64,
    /// Cohen's κ on the three grades.
    pub grade_kappa: f64,
    /// Share with the same grade and reason.
    pub reason_agreement: f64,
    /// Items the third pass settled (a grade or a reason differed).
    pub settled_by_third_pass: usize,
    /// Of the items whose grades differed, how often the third pass gave the first pass's
    /// grade, the second's, or another.
    pub third_sided_with: [usize; 3],
    /// Items per settled grade (一般, 严重, 重大).
    pub grades: [usize; 3],
}

/// How far two sets of grades of the same texts agree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairAgreement {
    /// Texts graded by both.
    pub items: usize,
    /// Share with the same grade.
    pub agreement: f64,
    /// Cohen's κ on the three grades.
    pub kappa: f64,
    /// Rows: the first set's grade (一般, 严重, 重大); columns: the second's.
    pub confusion: [[usize; 3]; 3],
}

/// Agreement and Cohen's κ of grade pairs.
pub fn compare(pairs: impl IntoIterator<Item = (Grade, Grade)>) -> PairAgreement {
    let idx = |g: Grade| Grade::ALL.iter().position(|x| *x == g).unwrap_or(0);
    let mut table = [[0usize; 3]; 3];
    for (a, b) in pairs {
        table[idx(a)][idx(b)] += 1;
    }
    let n: usize = table.iter().flatten().sum();
    let share = |k: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    let po = share((0..3).map(|g| table[g][g]).sum());
    let pe: f64 = (0..3)
        .map(|g| share(table[g].iter().sum()) * share(table.iter().map(|row| row[g]).sum()))
        .sum();
    PairAgreement {
        items: n,
        agreement: po,
        kappa: if pe < 1.0 {
            (po - pe) / (1.0 - pe)
        } else {
            1.0
        },
        confusion: table,
    }
}

/// A graded text in any JSONL that has `id` and `grade` (other fields ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct Graded {
    /// The text's id.
    pub id: String,
    /// Its grade.
    pub grade: Grade,
}

/// Reads `id` and `grade` of every line; a malformed line is an error naming it.
pub fn load_graded(path: &Path) -> Result<Vec<Graded>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(|e| Error::BadLine {
            path: path.to_path_buf(),
            line: i + 1,
            message: format!("{e} (expected `id` and `grade`)"),
        })?);
    }
    Ok(out)
}

/// The agreement of the first two passes, and what the third did.
pub fn agreement(annotations: &[Annotation]) -> Agreement {
    let idx = |g: Grade| Grade::ALL.iter().position(|x| *x == g).unwrap_or(0);
    let passes = compare(annotations.iter().map(|a| (a.pass_a.grade, a.pass_b.grade)));
    let (mut same_both, mut settled) = (0, 0);
    let mut sided = [0usize; 3];
    let mut grades = [0usize; 3];
    for a in annotations {
        same_both += usize::from(a.pass_a == a.pass_b);
        grades[idx(a.grade)] += 1;
        if let Some(c) = &a.pass_c {
            settled += 1;
            if a.pass_a.grade == a.pass_b.grade {
                continue;
            }
            let side = if c.grade == a.pass_a.grade {
                0
            } else if c.grade == a.pass_b.grade {
                1
            } else {
                2
            };
            sided[side] += 1;
        }
    }
    let n = annotations.len();
    Agreement {
        items: n,
        grade_agreement: passes.agreement,
        grade_kappa: passes.kappa,
        reason_agreement: if n == 0 {
            0.0
        } else {
            same_both as f64 / n as f64
        },
        settled_by_third_pass: settled,
        third_sided_with: sided,
        grades,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(id: &str, a: Grade, b: Grade, c: Option<Grade>) -> Annotation {
        let j = |g: Grade| Judgement {
            grade: g,
            reason: if g == Grade::General {
                "none"
            } else {
                "repeat"
            }
            .into(),
        };
        Annotation {
            id: id.into(),
            source: "tipdm".into(),
            grade: c.unwrap_or(a),
            reason: "none".into(),
            pass_a: j(a),
            pass_b: j(b),
            pass_c: c.map(j),
        }
    }

    #[test]
    fn kappa_matches_a_table_worked_by_hand() {
        use Grade::{General as G, Major as M, Serious as S};
        // 10 items: 7 agree (4 G, 2 S, 1 M); A says G where B says S twice, S where B says M once.
        let mut rows = Vec::new();
        for (i, (a, b)) in [
            (G, G),
            (G, G),
            (G, G),
            (G, G),
            (S, S),
            (S, S),
            (M, M),
            (G, S),
            (G, S),
            (S, M),
        ]
        .into_iter()
        .enumerate()
        {
            rows.push(ann(&i.to_string(), a, b, (a != b).then_some(b)));
        }
        let r = agreement(&rows);
        assert_eq!(r.items, 10);
        assert!((r.grade_agreement - 0.7).abs() < 1e-12);
        // A: G 6, S 3, M 1; B: G 4, S 4, M 2. pe = .6×.4 + .3×.4 + .1×.2 = 0.38.
        assert!((r.grade_kappa - (0.7 - 0.38) / 0.62).abs() < 1e-12, "{r:?}");
        assert_eq!(r.settled_by_third_pass, 3);
        assert_eq!(r.third_sided_with, [0, 3, 0]);
    }

    #[test]
    fn attach_gives_grades_by_id_and_reports_the_rest() {
        let ex = |id: &str, grade: Option<Grade>| Example {
            id: Some(id.into()),
            text: "文本".into(),
            title: None,
            category: None,
            grade,
            reason: None,
            source: None,
            line: 0,
        };
        let mut examples = vec![ex("a", None), ex("b", Some(Grade::General))];
        let anns = vec![
            ann("a", Grade::Major, Grade::Major, None),
            ann("b", Grade::Serious, Grade::Serious, None),
            ann("z", Grade::General, Grade::General, None),
        ];
        let r = attach(&mut examples, &anns);
        assert_eq!(r.joined, 1);
        assert_eq!(r.conflicting, ["b"]);
        assert_eq!(r.unmatched, ["z"]);
        assert_eq!(examples[0].grade, Some(Grade::Major));
        assert_eq!(examples[1].grade, Some(Grade::General));
    }
}
