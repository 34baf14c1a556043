//! A one-time upgrade of data written before every free-text field was masked: versions before
//! it stored a patch's `resolution`, `assignee` and `department`, and `metadata` strings, as
//! typed, so a phone or card number in them reached other callers' suggestions, audit trails,
//! exports and the index; and the text itself was masked by rules that missed some forms (a
//! grouped 身份证, a card right after another number, a number before a full stop). This masks
//! them where they were kept (case documents, their triage records, audit events, stored
//! idempotent answers) and gives each changed case a new version, so that the index follows.
//! Secure delete is on: the old values do not stay in free pages.
//!
//! The one place the store reads what it otherwise keeps unread (the answers, the triage
//! records): a migration of what earlier versions wrote, for the SQLite backend only.

use rusqlite::{Transaction, params};
use rusqlite_migration::HookResult;
use serde_json::Value;

use crate::text::{mask_free_text, mask_json};

/// Case fields a person or system types, and the text (masked again by today's rules).
const FREE_TEXT: [&str; 5] = ["resolution", "assignee", "department", "title", "text"];

/// The migration's hook.
pub(super) fn scrub(tx: &Transaction<'_>) -> HookResult {
    let mut version: i64 =
        tx.query_row("SELECT COALESCE(MAX(version), 0) FROM cases", [], |r| {
            r.get(0)
        })?;
    let cases: Vec<(i64, String)> = tx
        .prepare("SELECT seq, doc FROM cases")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (seq, doc) in cases {
        let triage: String =
            tx.query_row("SELECT triage FROM cases WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })?;
        if let Some(triage) = rewritten(&triage, mask_strings) {
            tx.execute(
                "UPDATE cases SET triage = ?1 WHERE seq = ?2",
                params![triage, seq],
            )?;
        }
        if let Some(doc) = rewritten(&doc, mask_case) {
            version += 1;
            // The document's own version follows the row's, as every write keeps them.
            let doc = set_version(&doc, version);
            tx.execute(
                "UPDATE cases SET doc = ?1, version = ?2 WHERE seq = ?3",
                params![doc, version, seq],
            )?;
        }
    }
    for (table, key, columns) in [
        ("audit", "seq", &["before", "after"][..]),
        ("idempotency_by_caller", "rowid", &["answer"][..]),
    ] {
        for column in columns {
            scrub_column(tx, table, key, column)?;
        }
    }
    Ok(())
}

/// Masks one JSON column of a table, row by row.
fn scrub_column(tx: &Transaction<'_>, table: &str, key: &str, column: &str) -> HookResult {
    // `idempotency_by_caller` is WITHOUT ROWID: it is keyed by (caller, key).
    let (select, update) = if key == "rowid" {
        (
            format!("SELECT caller || char(31) || key, CAST({column} AS TEXT) FROM {table}"),
            format!(
                "UPDATE {table} SET {column} = CAST(?1 AS BLOB) WHERE caller || char(31) || key = ?2"
            ),
        )
    } else {
        (
            format!("SELECT {key}, {column} FROM {table}"),
            format!("UPDATE {table} SET {column} = ?1 WHERE {key} = ?2"),
        )
    };
    let rows: Vec<(Value, Option<String>)> = tx
        .prepare(&select)?
        .query_map([], |r| {
            let k: rusqlite::types::Value = r.get(0)?;
            let k = match k {
                rusqlite::types::Value::Integer(i) => Value::from(i),
                rusqlite::types::Value::Text(t) => Value::from(t),
                _ => Value::Null,
            };
            Ok((k, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut statement = tx.prepare(&update)?;
    for (k, doc) in rows {
        let Some(doc) = doc else { continue };
        if let Some(doc) = rewritten(&doc, mask_record) {
            match k {
                Value::Number(n) => statement.execute(params![doc, n.as_i64()])?,
                Value::String(s) => statement.execute(params![doc, s])?,
                _ => continue,
            };
        }
    }
    Ok(())
}

/// The document with `mask` applied, if that changed it.
fn rewritten(doc: &str, mask: fn(&mut Value)) -> Option<String> {
    let mut value: Value = serde_json::from_str(doc).ok()?;
    let before = value.clone();
    mask(&mut value);
    (value != before).then(|| value.to_string())
}

fn set_version(doc: &str, version: i64) -> String {
    match serde_json::from_str::<Value>(doc) {
        Ok(Value::Object(mut case)) => {
            case.insert("version".into(), version.into());
            Value::Object(case).to_string()
        }
        _ => doc.to_string(),
    }
}

/// The free-text fields of a case document.
fn mask_case(case: &mut Value) {
    let Value::Object(fields) = case else { return };
    for name in FREE_TEXT {
        if let Some(Value::String(s)) = fields.get_mut(name)
            && let std::borrow::Cow::Owned(m) = mask_free_text(s)
        {
            *s = m;
        }
    }
    if let Some(metadata) = fields.get_mut("metadata") {
        mask_json(metadata);
    }
    if let Some(keywords) = fields.get_mut("keywords") {
        mask_strings(keywords);
    }
}

/// Every string of a record, at any depth; its numbers are scores, not values.
fn mask_strings(record: &mut Value) {
    match record {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(m) = mask_free_text(s) {
                *s = m;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_strings),
        Value::Object(fields) => fields.values_mut().for_each(mask_strings),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// An audit event's fields, or a stored answer: the case's fields, and the suggestions'
/// resolutions and departments.
fn mask_record(record: &mut Value) {
    mask_case(record);
    let Value::Object(fields) = record else {
        return;
    };
    if let Some(Value::Array(suggestions)) = fields.get_mut("suggestions") {
        suggestions.iter_mut().for_each(mask_case);
    }
    if let Some(hint) = fields.get_mut("suggested_department") {
        mask_case(hint);
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, OptionalExtension};

    use super::super::schema::{MIGRATIONS, migrate};

    /// Whether `needle` is anywhere the scrub looks.
    fn kept(conn: &Connection, needle: &str) -> bool {
        conn.query_row(
            "SELECT 1 FROM cases WHERE instr(doc, ?1) > 0
             UNION ALL SELECT 1 FROM cases WHERE instr(triage, ?1) > 0
             UNION ALL SELECT 1 FROM audit WHERE instr(before, ?1) > 0 OR instr(after, ?1) > 0
             UNION ALL SELECT 1 FROM idempotency_by_caller WHERE instr(CAST(answer AS TEXT), ?1) > 0
             LIMIT 1",
            [needle],
            |_| Ok(()),
        )
        .optional()
        .unwrap()
        .is_some()
    }

    #[test]
    fn free_text_of_an_earlier_version_is_masked_once_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tousu.db");
        let mut conn = Connection::open(&path).unwrap();
        // The store as the version before this upgrade left it.
        rusqlite_migration::Migrations::new(MIGRATIONS.to_vec())
            .to_latest(&mut conn)
            .unwrap();
        // A whole case as that version wrote it (later migrations read it).
        let mut doc = serde_json::to_value(crate::store::conformance::sample_case(
            "",
            "2026-11-01T00:00:00Z",
        ))
        .unwrap();
        for (k, v) in serde_json::json!({
            "id": "TS20261101-000001", "seq": 1, "version": 7,
            "text": "宽带断网，电话13912340000.", "keywords": ["13912340000"],
            "resolution": "已联系客户13612345678退款至银行卡6228480012345678903",
            "assignee": "张三 zhang.san@example.com", "department": "维修部",
            "metadata": {"caller": {"phone": "13712345678"}}, "contact_hash": "ab13900001111cd"
        })
        .as_object()
        .unwrap()
        {
            doc[k] = v.clone();
        }
        conn.execute(
            "INSERT INTO cases (seq, id, version, received_at, original_text, doc, triage)
             VALUES (1, 'TS20261101-000001', 7, 0, '宽带断网', ?1, ?2)",
            [
                doc.to_string(),
                r#"{"grade":{"drivers":[{"phrase":"电话13912340000.","weight":0.5}]}}"#.into(),
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO audit (case_id, at, actor, action, before, after)
             VALUES ('TS20261101-000001', 0, 'ana', 'update', '{}', ?1)",
            [serde_json::json!({"resolution": doc["resolution"]}).to_string()],
        )
        .unwrap();
        let answer = serde_json::json!({"id": "TS20261101-000002",
            "suggestions": [{"resolution": doc["resolution"], "department": "维修部"}]});
        conn.execute(
            "INSERT INTO idempotency_by_caller VALUES ('crm', 'k', 'h', 'TS20261101-000002', ?1, 0)",
            [answer.to_string().into_bytes()],
        )
        .unwrap();
        for raw in [
            "13612345678",
            "6228480012345678903",
            "zhang.san@example.com",
            "13712345678",
        ] {
            assert!(kept(&conn, raw), "planted {raw}");
        }
        migrate(&mut conn).unwrap();
        let facts = conn
            .query_row("SELECT facts FROM case_facts WHERE seq = 1", [], |r| {
                super::super::rows::text(r, 0)
            })
            .unwrap();
        assert!(
            facts.contains("TS20261101-000001") && !facts.contains("13912340000"),
            "facts are filled in for cases stored before them, from the masked case: {facts}"
        );
        for raw in [
            "13612345678",
            "6228480012345678903",
            "zhang.san@example.com",
            "13712345678",
        ] {
            assert!(!kept(&conn, raw), "{raw} is still stored");
        }
        let (doc, version): (String, i64) = conn
            .query_row("SELECT doc, version FROM cases", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(version, 8, "a new version, so that the index follows");
        assert_eq!(doc["version"], 8);
        assert_eq!(
            doc["department"], "维修部",
            "a value without PII is kept as it was"
        );
        assert_eq!(
            doc["contact_hash"], "ab13900001111cd",
            "only free text is touched"
        );
        assert!(doc["resolution"].as_str().unwrap().contains("〔手机号〕"));
    }
}
