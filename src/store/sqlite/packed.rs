//! The large text columns stored compressed: zstd, each column with a dictionary of its own.
//!
//! A case's document, its triage record and its handling facts are JSON whose keys and most
//! values (labels, departments, steps, timestamps' shapes) repeat in every row; compressed one
//! row at a time without help they shrink by half, with a dictionary of such JSON to a third
//! (see `dict/README.md`). The dictionaries are raw content: any bytes zstd may copy from.
//!
//! A packed cell is a BLOB: one tag byte naming the column and the dictionary's version, then
//! a zstd frame. Rows written before packing are TEXT and read as they are, so a store is never
//! rewritten to upgrade. A dictionary, once released, is never edited (the rows written with it
//! read through it forever): a better one is a new version with a new tag.

use std::cell::RefCell;
use std::sync::LazyLock;

use rusqlite::types::{FromSqlError, FromSqlResult, ValueRef};
use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// A column stored packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    /// `cases.doc`: the case as JSON.
    Case,
    /// `cases.triage`: the triage recorded at intake.
    Triage,
    /// `case_facts.facts`.
    Facts,
    /// `cases.original_text`: the text as received (no dictionary: free text).
    OriginalText,
}

/// zstd's level: level 3 is its default; higher levels gave a few percent on these rows at
/// several times the cost on the writer thread.
const LEVEL: i32 = 3;

/// No stored value is larger: a text is at most tens of kilobytes (see `config::limits`).
const MAX_UNPACKED: usize = 16 << 20;

impl Column {
    const ALL: [Column; 4] = [
        Column::Case,
        Column::Triage,
        Column::Facts,
        Column::OriginalText,
    ];

    /// The tag of the version this column is written with now.
    fn tag(self) -> u8 {
        match self {
            Column::Case => 0x11,
            Column::Triage => 0x21,
            Column::Facts => 0x31,
            Column::OriginalText => 0x41,
        }
    }

    fn dictionary(self) -> &'static [u8] {
        match self {
            Column::Case => include_bytes!("dict/case-1.jsonl"),
            Column::Triage => include_bytes!("dict/triage-1.jsonl"),
            Column::Facts => include_bytes!("dict/facts-1.jsonl"),
            Column::OriginalText => b"",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn of_tag(tag: u8) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.tag() == tag)
    }
}

/// The dictionaries digested once for the process.
static ENCODERS: LazyLock<Vec<EncoderDictionary<'static>>> = LazyLock::new(|| {
    Column::ALL
        .iter()
        .map(|c| EncoderDictionary::copy(c.dictionary(), LEVEL))
        .collect()
});
static DECODERS: LazyLock<Vec<DecoderDictionary<'static>>> = LazyLock::new(|| {
    Column::ALL
        .iter()
        .map(|c| DecoderDictionary::copy(c.dictionary()))
        .collect()
});

thread_local! {
    // A zstd context holds its working memory: one per thread and column, not one per row.
    static COMPRESSORS: RefCell<Vec<Compressor<'static>>> = RefCell::new(
        ENCODERS
            .iter()
            .map(|d| Compressor::with_prepared_dictionary(d).expect("a zstd context"))
            .collect(),
    );
    static DECOMPRESSORS: RefCell<Vec<Decompressor<'static>>> = RefCell::new(
        DECODERS
            .iter()
            .map(|d| Decompressor::with_prepared_dictionary(d).expect("a zstd context"))
            .collect(),
    );
}

/// `text` as the column stores it.
pub(super) fn pack(column: Column, text: &str) -> Vec<u8> {
    COMPRESSORS.with_borrow_mut(|cs| {
        let mut out = Vec::with_capacity(text.len() / 2 + 16);
        out.push(column.tag());
        let frame = cs[column.index()]
            .compress(text.as_bytes())
            .expect("zstd compresses any input into a buffer it sizes");
        out.extend_from_slice(&frame);
        out
    })
}

/// A stored cell's text: TEXT as written before packing, or a packed BLOB.
pub(super) fn unpack(value: ValueRef<'_>) -> FromSqlResult<String> {
    match value {
        ValueRef::Text(t) => {
            String::from_utf8(t.to_vec()).map_err(|e| FromSqlError::Other(e.into()))
        }
        ValueRef::Blob(b) => unpacked(b).map_err(|e| FromSqlError::Other(e.into())),
        _ => Err(FromSqlError::InvalidType),
    }
}

/// The text of a packed cell's bytes, or why they are not one.
pub fn unpacked(bytes: &[u8]) -> Result<String, String> {
    let (&tag, frame) = bytes.split_first().ok_or("an empty packed cell")?;
    let column = Column::of_tag(tag).ok_or_else(|| format!("unknown packing tag {tag:#04x}"))?;
    let raw = DECOMPRESSORS
        .with_borrow_mut(|ds| ds[column.index()].decompress(frame, MAX_UNPACKED))
        .map_err(|e| format!("a packed {column:?} cell does not decompress: {e}"))?;
    String::from_utf8(raw).map_err(|e| format!("a packed {column:?} cell is not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn every_column_reads_back_what_it_packed() {
        let case =
            r#"{"id":"TS20260304-000001","text":"宽带从上周开始经常断网","status":"triaged"}"#;
        for column in Column::ALL {
            let packed = pack(column, case);
            assert_eq!(packed[0], column.tag());
            assert_eq!(unpack(ValueRef::Blob(&packed)).unwrap(), case);
        }
        assert_eq!(unpack(ValueRef::Text(b"")).unwrap(), "");
        assert_eq!(unpacked(&pack(Column::Case, "")).unwrap(), "");
    }

    #[test]
    fn rows_written_before_packing_read_as_they_are() {
        assert_eq!(
            unpack(ValueRef::Text(r#"{"a":1}"#.as_bytes())).unwrap(),
            r#"{"a":1}"#
        );
        assert!(unpack(ValueRef::Integer(1)).is_err());
    }

    #[test]
    fn a_dictionary_makes_a_case_a_third_of_its_json() {
        let case = include_str!("dict/case-1.jsonl").lines().nth(3).unwrap();
        let alone = zstd::bulk::compress(case.as_bytes(), LEVEL).unwrap().len();
        let packed = pack(Column::Case, case).len();
        // The sample is inside the dictionary, so this is the best case; the rows of the load
        // store measured in docs/benchmarks.md are the honest figure.
        assert!(packed * 3 < alone, "{packed} packed, {alone} alone");
    }

    #[test]
    fn damaged_or_unknown_cells_are_errors_not_panics() {
        let mut packed = pack(Column::Facts, r#"{"seq":1}"#);
        assert!(unpacked(&[]).is_err());
        assert!(unpacked(&[0x99, 1, 2]).unwrap_err().contains("0x99"));
        let last = packed.len() - 1;
        packed.truncate(last);
        assert!(unpacked(&packed).is_err());
    }

    /// The released dictionaries never change: rows written with them read through them.
    #[test]
    fn released_dictionaries_are_unchanged() {
        let digest = |c: Column| format!("{:x}", Sha256::digest(c.dictionary()));
        assert_eq!(
            digest(Column::Case),
            "f1408706a9f9ebfa2ce9ce70eb1f29dcccfbafef7565cbd585a8b95d066bc7cc"
        );
        assert_eq!(
            digest(Column::Triage),
            "3fb1e8fb2b0b7327689b432fb36b841c92bb94f636c79ea16a49435f11b0d97c"
        );
        assert_eq!(
            digest(Column::Facts),
            "41c27c050947265f4897329ffba3f63f1734a836954bbc0e49fb555d13eabe5e"
        );
    }
}
