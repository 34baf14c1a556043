//! The index schema: masked text and title for Chinese full-text search, facets for filters and
//! counts, the receipt time for ranges and sorting.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TantivyDocument,
    TextFieldIndexing, TextOptions,
};

use super::{facet_value, index_date};
use crate::domain::Case;

/// Name under which the jieba tokenizer is registered (after every open: tantivy does not
/// persist tokenizers). It is part of the schema: an index written by the earlier tokenizer
/// (`zh`, a position per token rather than per word) has another schema and is rebuilt from
/// the store on open.
pub const TOKENIZER: &str = "zh_words";

/// The facet fields, in the order facet counts are reported. `assignee` is the handler;
/// `linked` says which links a case has (`repeat`, `duplicate`, `group`; several at once).
pub const FACETS: [&str; 7] = [
    "category",
    "grade",
    "status",
    "channel",
    "department",
    "assignee",
    "linked",
];

/// Handles to the schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub number: Field,
    /// The case's row in the store (its `seq`): intake reads its neighbours by row, without
    /// the descent of the store's index of case numbers.
    pub seq: Field,
    pub title: Field,
    pub text: Field,
    pub received_at: Field,
    pub resolved: Field,
    /// The cases this one links to, as `dup:<id>`, `rep:<id>` and `group:<group id>`: the
    /// links read backwards (a case's later duplicates, its repeats, its group's members).
    pub link_to: Field,
    /// Facet fields, as [`FACETS`].
    pub facets: [Field; 7],
}

impl Fields {
    /// Builds the schema.
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let zh = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let id = b.add_text_field("id", STRING | STORED);
        // The case number again, packed in a u64 column: similar-case lookups read the number,
        // time and resolved flag of hundreds of hits, and numeric fast columns are far cheaper
        // than decompressing stored documents or a string column's dictionary.
        let number = b.add_u64_field("number", FAST);
        let seq = b.add_u64_field("seq", FAST);
        let title = b.add_text_field("title", zh.clone());
        let text = b.add_text_field("text", zh);
        let received_at = b.add_date_field("received_at", INDEXED | FAST | STORED);
        let resolved = b.add_u64_field("resolved", INDEXED | FAST | STORED);
        let link_to = b.add_text_field("link_to", STRING);
        let facets =
            FACETS.map(|name| b.add_facet_field(name, tantivy::schema::FacetOptions::default()));
        (
            b.build(),
            Fields {
                id,
                number,
                seq,
                title,
                text,
                received_at,
                resolved,
                link_to,
                facets,
            },
        )
    }

    /// The facet field called `name`.
    pub fn facet(&self, name: &str) -> Option<Field> {
        FACETS
            .iter()
            .position(|f| *f == name)
            .map(|i| self.facets[i])
    }
}

impl Fields {
    /// The document of a case.
    pub(super) fn document(&self, case: &Case) -> TantivyDocument {
        let f = self;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, case.id.as_str());
        if let Some(n) = case.id.packed() {
            doc.add_u64(f.number, n);
        }
        doc.add_u64(f.seq, case.seq);
        if let Some(t) = &case.title {
            doc.add_text(f.title, t);
        }
        doc.add_text(f.text, &case.text);
        doc.add_date(f.received_at, index_date(case.received_at));
        doc.add_u64(f.resolved, u64::from(case.is_resolved()));
        if let Some(d) = &case.links.duplicate_of {
            doc.add_text(f.link_to, format!("dup:{}", d.as_str()));
        }
        for r in &case.links.repeat_of {
            doc.add_text(f.link_to, format!("rep:{}", r.as_str()));
        }
        if let Some(g) = &case.links.group_id {
            doc.add_text(f.link_to, format!("group:{g}"));
        }
        let linked = [
            (!case.links.repeat_of.is_empty()).then_some("repeat"),
            case.links.duplicate_of.as_ref().map(|_| "duplicate"),
            case.links.group_id.as_ref().map(|_| "group"),
        ];
        let values: [&[Option<&str>]; 7] = [
            &[case.category.as_deref()],
            &[Some(case.grade.label())],
            &[Some(case.status.code())],
            &[Some(case.channel.code())],
            &[case.department.as_deref()],
            &[case.assignee.as_deref()],
            &linked,
        ];
        for (field, values) in f.facets.iter().zip(values) {
            for v in values.iter().flatten() {
                doc.add_facet(*field, facet_value(v));
            }
        }
        doc
    }
}
