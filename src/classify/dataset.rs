//! Labelled cases from JSON Lines: loading with line-numbered errors, merging labels that
//! different files give the same text, and splitting off a dev set.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::Grade;
use crate::error::{Error, Result};

/// One labelled complaint. Fields other than these are ignored when reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Stable id; when absent, a hash of the text is used to merge and split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The complaint text.
    pub text: String,
    /// An optional title (subject line), modelled together with the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Category label, if this row has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Grade label, if this row has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// The grade's reason code, if given (learned by `--grade-reasons`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where the row came from (e.g. `cocc`, `tipdm`), for filtering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// 1-based line of the file the row was read from (0 when not read from a file).
    #[serde(skip)]
    pub line: usize,
}

impl Example {
    /// The id, or a hash of the text when the row has none.
    pub fn key(&self) -> String {
        self.id.clone().unwrap_or_else(|| {
            let h = Sha256::digest(self.text.as_bytes());
            format!("text-{}", &hex(&h)[..16])
        })
    }
}

/// What [`load_jsonl`] read.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The rows that parsed.
    pub examples: Vec<Example>,
    /// Malformed lines skipped (only with `skip_bad`), as `path:line: message`.
    pub skipped: Vec<String>,
}

/// Reads JSON Lines of [`Example`]s. Blank lines are ignored. A malformed line is an
/// [`Error::BadLine`] naming the file and line, or, with `skip_bad`, skipped and reported in
/// [`Loaded::skipped`]. A row whose `text` is empty counts as malformed.
pub fn load_jsonl(path: &Path, skip_bad: bool) -> Result<Loaded> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Loaded::default();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Example>(&line)
            .map_err(|e| e.to_string())
            .and_then(|ex| {
                if ex.text.trim().is_empty() {
                    Err("`text` is empty".to_string())
                } else {
                    Ok(ex)
                }
            });
        match parsed {
            Ok(mut ex) => {
                ex.line = i + 1;
                out.examples.push(ex);
            }
            Err(message) => {
                let err = Error::BadLine {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message: format!(
                        "{message} (expected a JSON object with `text` and `category` and/or `grade`)"
                    ),
                };
                if skip_bad {
                    out.skipped.push(err.to_string());
                } else {
                    return Err(err);
                }
            }
        }
    }
    Ok(out)
}

/// Merges rows that share a key (id), so that a text labelled with a category in one file and
/// a grade in another becomes one example with both. The first row's text and title win; a
/// later row fills labels the earlier one lacks. Order of first appearance is kept.
pub fn merge_by_key(rows: impl IntoIterator<Item = Example>) -> Vec<Example> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Example> = Vec::new();
    for row in rows {
        let key = row.key();
        match index.get(&key) {
            Some(&i) => {
                let e = &mut out[i];
                e.category = e.category.take().or(row.category);
                e.grade = e.grade.take().or(row.grade);
                e.reason = e.reason.take().or(row.reason);
                e.title = e.title.take().or(row.title);
                e.source = e.source.take().or(row.source);
            }
            None => {
                index.insert(key, out.len());
                out.push(row);
            }
        }
    }
    out
}

/// The cross-validation fold (0..`folds`) of the row with this key: SHA-256(key), bytes 8–15 as
/// a big-endian integer, modulo `folds` (other bytes than [`DevRule::Fraction`]'s, so a fold's
/// inner dev is drawn from the rest evenly). `benches/baseline_svm.py --folds` computes the
/// same, so the baseline is cross-validated on the same folds.
pub fn fold_of(key: &str, folds: usize) -> usize {
    let h = Sha256::digest(key.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[8..16]);
    (u64::from_be_bytes(b) % folds.max(1) as u64) as usize
}

/// How [`split`] decides which rows are dev.
#[derive(Debug, Clone)]
pub enum DevRule {
    /// Rows whose key is among these (e.g. the ids of an official dev file).
    Keys(HashSet<String>),
    /// A stable pseudo-random fraction: the first byte of SHA-256(key) below `fraction × 256`.
    Fraction(f64),
}

impl DevRule {
    /// Whether the row with this key belongs to dev.
    pub fn is_dev(&self, key: &str) -> bool {
        match self {
            DevRule::Keys(keys) => keys.contains(key),
            DevRule::Fraction(f) => f64::from(Sha256::digest(key.as_bytes())[0]) < f * 256.0,
        }
    }
}

/// Splits examples into (train, dev) by `rule`, keeping order. Because the rule looks only at
/// the key, every label of one text lands on the same side.
pub fn split(examples: Vec<Example>, rule: &DevRule) -> (Vec<Example>, Vec<Example>) {
    examples.into_iter().partition(|e| !rule.is_dev(&e.key()))
}

/// Writes rows (examples, eval errors) as JSON Lines.
pub fn write_jsonl<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = BufWriter::new(file);
    for e in rows {
        serde_json::to_writer(&mut w, e).map_err(|e| Error::Invalid(e.to_string()))?;
        w.write_all(b"\n").map_err(|e| Error::io(path, e))?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

/// Loads several files, keeps rows whose `source` is one of `sources` (all when empty; rows
/// without one are kept), and merges them by key.
pub fn load_many(paths: &[PathBuf], sources: &[String], skip_bad: bool) -> Result<Loaded> {
    let mut all = Loaded::default();
    for p in paths {
        let l = load_jsonl(p, skip_bad)?;
        all.skipped.extend(l.skipped);
        all.examples.extend(l.examples.into_iter().filter(|e| {
            sources.is_empty()
                || e.source
                    .as_ref()
                    .is_none_or(|s| sources.iter().any(|x| x == s))
        }));
    }
    all.examples = merge_by_key(all.examples);
    Ok(all)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(lines: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(lines.as_bytes()).unwrap();
        f
    }

    #[test]
    fn bad_line_is_named_or_skipped() {
        let f = write(
            "{\"text\":\"宽带坏了\",\"category\":\"网络问题\"}\n\n{not json}\n{\"text\":\"\"}\n",
        );
        let err = load_jsonl(f.path(), false).unwrap_err().to_string();
        assert!(err.contains(":3:"), "{err}");
        let l = load_jsonl(f.path(), true).unwrap();
        assert_eq!(l.examples.len(), 1);
        assert_eq!(l.skipped.len(), 2);
        assert!(l.skipped[1].contains(":4:") && l.skipped[1].contains("empty"));
    }

    #[test]
    fn extra_fields_are_ignored_and_grades_parse() {
        let f = write("{\"id\":\"a\",\"text\":\"x\",\"grade\":\"重大\",\"likes\":3}\n");
        let l = load_jsonl(f.path(), false).unwrap();
        assert_eq!(l.examples[0].grade, Some(Grade::Major));
    }

    #[test]
    fn unknown_grade_is_a_bad_line() {
        let f = write("{\"id\":\"a\",\"text\":\"x\",\"grade\":\"紧急\"}\n");
        let err = load_jsonl(f.path(), false).unwrap_err().to_string();
        assert!(err.contains(":1:") && err.contains("一般"), "{err}");
    }

    #[test]
    fn merge_joins_labels_of_one_text() {
        let a = Example {
            id: Some("x".into()),
            text: "t".into(),
            title: None,
            category: Some("c".into()),
            grade: None,
            reason: None,
            source: None,
            line: 1,
        };
        let b = Example {
            category: None,
            grade: Some(Grade::Serious),
            ..a.clone()
        };
        let m = merge_by_key([a, b]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].category.as_deref(), Some("c"));
        assert_eq!(m[0].grade, Some(Grade::Serious));
    }

    #[test]
    fn fraction_split_is_stable() {
        let rule = DevRule::Fraction(0.2);
        let n = (0..1000)
            .filter(|i| rule.is_dev(&format!("id-{i}")))
            .count();
        assert!((150..250).contains(&n), "{n}");
        assert_eq!(rule.is_dev("id-7"), DevRule::Fraction(0.2).is_dev("id-7"));
    }

    #[test]
    fn folds_are_the_ones_the_python_baseline_computes() {
        // Values from benches/baseline_svm.py's fold_of.
        let folds: Vec<usize> = (0..10).map(|i| fold_of(&format!("id-{i}"), 5)).collect();
        assert_eq!(folds, [4, 4, 4, 0, 2, 4, 0, 3, 4, 1]);
        assert_eq!(fold_of("tipdm-123", 7), 3);
    }
}
