//! The planted-PII sweep: personal data never appears outside the one column made for it.
//!
//! Phone numbers, checksum-valid 身份证 numbers, Luhn-valid bank card numbers and e-mail
//! addresses — a different value in every field, some in digit-grouped or full-width forms — are
//! written through the real `tousu serve` binary into every field a person or system can write:
//! the text, title, contact and metadata (strings at any depth, an array, a key, a number) of a
//! create, of batch items and of a triage, a PATCH's resolution, assignee and department, and a
//! line of `tousu import` (its handling fields and a source field too; and two bad lines). Then
//! every output (answers, replays, search with snippets and facets, similar cases, suggestions,
//! a case's links and explanation, trends, topics, alerts, the case events sent to a webhook, metrics, the import report, the
//! exports of the CLI (JSONL, CSV, xlsx, corrections) and of the API (CSV and the cells of xlsx
//! workbooks), the logs of the server
//! at debug level and of each command) and
//! every storage place (each text and blob cell of each SQLite table, the database and WAL
//! files' bytes, each term of each indexed field and fast-field dictionary of each index
//! segment, each stored document, deleted ones included) is searched for every value. The
//! places a value may be are the columns kept apart for the audited reveal — `cases.original_text`
//! of the case whose `text` it was typed in, `cases.contact` of the case whose `contact` it was —
//! and that case's reveal answer (`POST /v1/cases/{id}/contact`); the test first checks that it
//! is there, so that a search that finds nothing is known to look. The reveals' reasons carry
//! values too, which the audit trail (per case, searched across cases, and `tousu audit`) must
//! show masked.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tousu::domain::PiiKind::{self, BankCard, Email, IdCard, Mobile};

use crate::receiver::{Receiver, wait_until};
use crate::support::checksums::{id_check_digit, luhn_check_digit, luhn_valid};
use crate::support::fixture_args;
use crate::support::http::{Reply, enc};
use crate::support::server::{Options, Server};

const CRM_KEY: &str = "crm-intake-key-pii-sweep-0001";
const WEB_KEY: &str = "web-intake-key-pii-sweep-0002";
const ANALYST_KEY: &str = "ana-analyst-key-pii-sweep-0003";
const LEAD_KEY: &str = "lead-supervisor-key-pii-sweep-0004";
const ROOT_KEY: &str = "root-admin-key-pii-sweep-0005";
/// The department the handling steps send A and B1 to.
const NETWORK: &str = "网络运维中心";

/// A non-personal number typed in case A's text: proves digit runs reach the index's terms, the
/// packed SQLite cells and the exports (so a phone number would be seen there if it were unmasked).
const ORDER_NUMBER: &str = "88776655";
/// A non-personal metadata value: proves metadata reaches the store and the answers.
const TICKET: &str = "TK-PII-SWEEP-0001";

// ---------------------------------------------------------------------------------------------
// The planted values
// ---------------------------------------------------------------------------------------------

/// A value planted in one field.
struct Plant {
    /// Where it was written, e.g. `A.metadata.caller.phone`.
    field: String,
    /// The forms that must not appear: as typed, and its plain ASCII digits when that differs
    /// (grouped, full-width or `+86` forms).
    forms: Vec<String>,
    /// The case whose `text` it was typed in: only that case's `original_text` (and its reveal)
    /// may hold it.
    text_of: Option<&'static str>,
    /// The case whose `contact` it was: only that case's `contact` column (and its reveal) may
    /// hold it.
    contact_of: Option<&'static str>,
}

#[derive(Default)]
struct Plants {
    all: Vec<Plant>,
    n: u64,
}

/// `digits` in groups of `sizes`, joined by `sep`.
fn grouped(digits: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut rest = digits;
    for &n in sizes {
        let (a, b) = rest.split_at(n.min(rest.len()));
        out.push(a);
        rest = b;
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out.join(sep)
}

/// Full-width digits (what an IME types in full-width mode).
fn full_width(digits: &str) -> String {
    digits
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
        .collect()
}

/// Asserts the project's own masking finds `canonical` as one value of `kind`.
fn assert_detected(canonical: &str, kind: PiiKind) {
    let m = tousu::text::mask_pii(canonical);
    assert_eq!(
        m.spans.iter().map(|s| s.kind).collect::<Vec<_>>(),
        vec![kind],
        "{canonical} is not one {kind:?} to tousu::text::mask_pii"
    );
    assert_eq!(
        (m.spans[0].byte_start, m.spans[0].byte_end),
        (0, canonical.len()),
        "{canonical}: the whole value is the span"
    );
}

impl Plants {
    fn next(&mut self) -> u64 {
        self.n += 1;
        self.n
    }

    /// Registers `typed` (in `field`) with its canonical form.
    fn register(
        &mut self,
        field: &str,
        typed: String,
        canonical: &str,
        text_of: Option<&'static str>,
    ) -> String {
        let mut forms = vec![typed.clone()];
        if canonical != typed {
            forms.push(canonical.to_string());
        }
        self.all.push(Plant {
            field: field.to_string(),
            forms,
            text_of,
            contact_of: None,
        });
        typed
    }

    /// A value of `kind` no other plant has, sent as case `case`'s `contact`.
    fn contact(&mut self, kind: PiiKind, field: &str, case: &'static str) -> String {
        let v = self.fresh(kind, field, None);
        self.all.last_mut().unwrap().contact_of = Some(case);
        v
    }

    /// A value of `kind` no other plant has, planted in `field` as it is.
    fn fresh(&mut self, kind: PiiKind, field: &str, text_of: Option<&'static str>) -> String {
        self.fresh_as(kind, field, text_of, str::to_string)
    }

    /// A value of `kind` no other plant has, planted in `field` in the form `shape` gives its
    /// canonical one (grouped digits, full-width, `+86`). The canonical value is first checked
    /// to be one value of `kind` to tousu's own masking.
    fn fresh_as(
        &mut self,
        kind: PiiKind,
        field: &str,
        text_of: Option<&'static str>,
        shape: impl Fn(&str) -> String,
    ) -> String {
        let n = self.next();
        let canonical = match kind {
            // A mobile number: 11 digits.
            Mobile => format!("136{:08}", 12_340_000 + n * 37),
            // A checksum-valid 18-digit 身份证 number.
            IdCard => {
                let first17 = format!(
                    "110105{}{:02}{:02}{:03}",
                    1970 + n % 30,
                    1 + n % 12,
                    1 + n % 28,
                    n
                );
                format!("{first17}{}", id_check_digit(&first17))
            }
            // A Luhn-valid 19-digit bank card number.
            BankCard => {
                let payload = format!("622202{:012}", 400_000_000_000 + n * 7919);
                let card = format!("{payload}{}", luhn_check_digit(&payload));
                assert!(luhn_valid(&card) && card.len() == 19);
                card
            }
            // An e-mail address that names its field.
            Email => {
                let tag: String = field
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_lowercase();
                format!("pii.{tag}.{n}@sweep-example.com.cn")
            }
        };
        assert_detected(&canonical, kind);
        self.register(field, shape(&canonical), &canonical, text_of)
    }

    /// A value planted as-is (already checked by the caller).
    fn given(&mut self, field: &str, value: &str, text_of: Option<&'static str>) -> String {
        self.register(field, value.to_string(), value, text_of)
    }

    /// A regex matching any form of any plant.
    fn matcher(&self) -> regex::bytes::Regex {
        let alternatives: Vec<String> = self
            .all
            .iter()
            .flat_map(|p| p.forms.iter().map(|f| regex::escape(f)))
            .collect();
        regex::bytes::Regex::new(&alternatives.join("|")).unwrap()
    }

    /// Which plant a matched form belongs to.
    fn owner(&self, form: &[u8]) -> &Plant {
        self.all
            .iter()
            .find(|p| p.forms.iter().any(|f| f.as_bytes() == form))
            .expect("a match is a form")
    }

    /// No form is part of another plant's form, so that a match names its field.
    fn assert_distinct(&self) {
        for (i, a) in self.all.iter().enumerate() {
            for (j, b) in self.all.iter().enumerate() {
                if i != j {
                    for fa in &a.forms {
                        for fb in &b.forms {
                            assert!(
                                !fb.contains(fa.as_str()),
                                "{fa} ({}) is part of {fb} ({})",
                                a.field,
                                b.field
                            );
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The sweep: what was found where
// ---------------------------------------------------------------------------------------------

struct Sweep {
    plants: Plants,
    matcher: regex::bytes::Regex,
    /// `place: field (form)` for every value found where it must not be.
    leaks: Vec<String>,
    /// Places searched, for the report.
    places: usize,
}

impl Sweep {
    fn new(plants: Plants) -> Self {
        plants.assert_distinct();
        let matcher = plants.matcher();
        Sweep {
            plants,
            matcher,
            leaks: Vec::new(),
            places: 0,
        }
    }

    /// The plants found in `hay`, with the form found.
    fn found(&self, hay: &[u8]) -> Vec<(&Plant, String)> {
        self.matcher
            .find_iter(hay)
            .map(|m| {
                (
                    self.plants.owner(m.as_bytes()),
                    String::from_utf8_lossy(m.as_bytes()).into_owned(),
                )
            })
            .collect()
    }

    /// Records every plant in `hay` as a leak at `place`.
    fn check(&mut self, place: &str, hay: impl AsRef<[u8]>) {
        self.check_allowing(place, hay.as_ref(), |_| false);
    }

    /// Records every plant in `hay` that `allowed` does not allow as a leak at `place`.
    fn check_allowing(&mut self, place: &str, hay: &[u8], allowed: impl Fn(&Plant) -> bool) {
        self.places += 1;
        let found: Vec<(String, String, bool)> = self
            .found(hay)
            .into_iter()
            .map(|(p, form)| (p.field.clone(), form, allowed(p)))
            .collect();
        for (field, form, allowed) in found {
            if !allowed {
                let leak = format!("{place}: the value planted in {field} ({form})");
                if !self.leaks.contains(&leak) {
                    self.leaks.push(leak);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests to the server, and commands
// ---------------------------------------------------------------------------------------------

/// One request to `server` with `key` as the bearer, extra `headers` and a JSON `body`;
/// panics when there is no whole answer.
fn http(
    server: &Server,
    method: &str,
    path: &str,
    key: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    let bearer = format!("Bearer {key}");
    let mut all = vec![("Authorization", bearer.as_str())];
    all.extend_from_slice(headers);
    let body = body.map(Value::to_string);
    server
        .send(method, path, &all, body.as_deref())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `tousu ARGS --data-dir … ` with debug logs.
fn cli(data: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tousu"))
        .args(args)
        .args(fixture_args(data))
        .env("TOUSU_LOG", "debug")
        .env("RUST_BACKTRACE", "0")
        .env_remove("TOUSU_CONFIG")
        .env_remove("TOUSU_API_KEYS")
        .stdin(Stdio::null())
        .output()
        .expect("tousu runs");
    assert!(
        out.status.success(),
        "tousu {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Storage readers
// ---------------------------------------------------------------------------------------------

/// Every cell of every sheet of an xlsx workbook, as text, one a line.
fn workbook_cells(bytes: &[u8]) -> String {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut out = String::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        for cell in range.cells() {
            out.push_str(&cell.2.to_string());
            out.push('\n');
        }
    }
    out
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Every file under `data` as bytes. The database holds `original_text` and `contact`, so values
/// typed in a text or sent as a contact may be in its pages and WAL frames (its cells are
/// checked one by one elsewhere); nothing else may be anywhere.
fn scan_files(sweep: &mut Sweep, data: &Path, when: &str) {
    for f in files_under(data) {
        // A file the server removes while it is listed (a merged segment) is gone: skip it.
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        let place = format!("file {} ({when})", f.strip_prefix(data).unwrap().display());
        if f.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("tousu.db")
        {
            sweep.check_allowing(&place, &bytes, |p| {
                p.text_of.is_some() || p.contact_of.is_some()
            });
        } else {
            sweep.check(&place, &bytes);
        }
    }
}

/// Something stored: where, and its bytes.
type Item = (String, Vec<u8>);

/// A column kept apart for the audited reveal, by case number.
type KeptApart = BTreeMap<String, String>;

/// The columns the store writes compressed (`src/store/sqlite/packed.rs`).
const PACKED: [(&str, &str); 4] = [
    ("cases", "doc"),
    ("cases", "triage"),
    ("cases", "original_text"),
    ("case_facts", "facts"),
];

/// Every text and blob cell of every table (packed ones unpacked), as (place, bytes), except
/// the columns kept apart for the audited reveal: `cases.original_text` and `cases.contact`,
/// each by case number.
fn sqlite_cells(db: &Path) -> (Vec<Item>, KeptApart, KeptApart) {
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type='table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        [
            "cases",
            "audit",
            "idempotency_by_caller",
            "fingerprints",
            "meta",
            "alerts"
        ]
        .iter()
        .all(|t| tables.iter().any(|n| n == t)),
        "tables: {tables:?}"
    );
    let mut cells = Vec::new();
    let mut originals = BTreeMap::new();
    let mut contacts = BTreeMap::new();
    for table in tables.iter().map(String::as_str).chain(["sqlite_master"]) {
        let mut st = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
        let id_col = names.iter().position(|n| n == "id");
        let mut rows = st.query([]).unwrap();
        let mut n = 0;
        while let Some(row) = rows.next().unwrap() {
            n += 1;
            for (i, name) in names.iter().enumerate() {
                let bytes = match row.get_ref(i).unwrap() {
                    // A packed column is checked as the text it holds.
                    ValueRef::Blob(b) if PACKED.contains(&(table, name.as_str())) => {
                        tousu::store::unpacked(b).unwrap().into_bytes()
                    }
                    ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
                    ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_) => continue,
                };
                if table == "cases" && (name == "original_text" || name == "contact") {
                    let id: String = row.get(id_col.unwrap()).unwrap();
                    let apart = if name == "contact" {
                        &mut contacts
                    } else {
                        &mut originals
                    };
                    apart.insert(id, String::from_utf8(bytes).unwrap());
                    continue;
                }
                cells.push((format!("SQLite {table}.{name} (row {n})"), bytes));
            }
        }
    }
    (cells, originals, contacts)
}

/// What one index holds, as (place, bytes): every term of every indexed field's dictionary,
/// every fast-field dictionary, every stored document (deleted ones too), per segment.
struct IndexContents {
    items: Vec<Item>,
    terms: usize,
    stored: usize,
    deleted: usize,
}

fn index_contents(dir: &Path) -> IndexContents {
    use tantivy::Document;
    use tantivy::schema::FieldType;
    let index = tantivy::Index::open_in_dir(dir).unwrap();
    let schema = index.schema();
    let reader: tantivy::IndexReader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()
        .unwrap();
    let searcher = reader.searcher();
    let mut out = IndexContents {
        items: Vec::new(),
        terms: 0,
        stored: 0,
        deleted: 0,
    };
    for (s, seg) in searcher.segment_readers().iter().enumerate() {
        let segment = format!(
            "index segment {s} ({})",
            seg.segment_id().short_uuid_string()
        );
        for (field, entry) in schema.fields() {
            let name = entry.name();
            if entry.is_indexed() {
                let inverted = seg.inverted_index(field).unwrap();
                let mut terms = inverted.terms().stream().unwrap();
                while terms.advance() {
                    out.terms += 1;
                    out.items
                        .push((format!("{segment}: term of `{name}`"), terms.key().to_vec()));
                }
            }
            if matches!(entry.field_type(), FieldType::Str(_) | FieldType::Facet(_))
                && entry.is_fast()
                && let Some(column) = seg.fast_fields().str(name).unwrap()
            {
                let mut terms = column.dictionary().stream().unwrap();
                while terms.advance() {
                    out.terms += 1;
                    out.items.push((
                        format!("{segment}: fast-field dictionary of `{name}`"),
                        terms.key().to_vec(),
                    ));
                }
            }
        }
        let store = seg.get_store_reader(1).unwrap();
        // No alive set: documents deleted by later versions of a case are read too.
        for (doc_id, doc) in store.iter::<tantivy::TantivyDocument>(None).enumerate() {
            out.stored += 1;
            if seg.is_deleted(doc_id as u32) {
                out.deleted += 1;
            }
            out.items.push((
                format!("{segment}: stored document {doc_id}"),
                doc.unwrap().to_json(&schema).into_bytes(),
            ));
        }
        assert_eq!(
            store.iter::<tantivy::TantivyDocument>(None).count(),
            seg.max_doc() as usize
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn planted_pii_appears_nowhere_but_original_text() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let mut p = Plants::default();

    // Case A (POST /v1/cases with an idempotency key), one value of each kind per field. The
    // brief's examples: 13612345678 and 6228480012345678903 (Luhn-valid, checked here).
    assert!(luhn_valid("6228480012345678903"));
    assert_detected("13612345678", PiiKind::Mobile);
    assert_detected("6228480012345678903", PiiKind::BankCard);
    let a_phone = p.given("A.text", "13612345678", Some("A"));
    let a_id = p.fresh(IdCard, "A.text", Some("A"));
    let a_card = p.given("A.text", "6228480012345678903", Some("A"));
    let a_mail = p.fresh(Email, "A.text", Some("A"));
    let a_text = format!(
        "家里宽带线路漏电，有起火危险，联系电话{a_phone}，身份证{a_id}，银行卡{a_card}被重复扣费，\
         邮箱{a_mail}，订单号{ORDER_NUMBER}，报修多次没人处理"
    );
    let a_title = format!(
        "宽带漏电 {} {} {} {}",
        p.fresh(Mobile, "A.title", None),
        p.fresh(IdCard, "A.title", None),
        p.fresh(BankCard, "A.title", None),
        p.fresh(Email, "A.title", None)
    );
    let a_contact = p.contact(Mobile, "A.contact", "A");
    let key_phone = p.fresh(Mobile, "A.metadata (a key)", None);
    let mut a_metadata = json!({
        "ticket": TICKET,
        "caller_phone": p.fresh(Mobile, "A.metadata.caller_phone", None),
        "caller": {
            "id_number": p.fresh(IdCard, "A.metadata.caller.id_number", None),
            "names": ["李四", p.fresh(Email, "A.metadata.caller.names[1]", None)],
            "accounts": [{ "card": p.fresh(BankCard, "A.metadata.caller.accounts[0].card", None) }],
        },
        "note": format!("客户留言：卡号{}", p.fresh_as(BankCard, "A.metadata.note", None, |d| grouped(d, &[4, 4, 4, 4], " "))),
        // An intake system may send a number as a JSON number.
        "callback": p.fresh(Mobile, "A.metadata.callback (a JSON number)", None).parse::<u64>().unwrap(),
    });
    a_metadata
        .as_object_mut()
        .unwrap()
        .insert(key_phone, json!("a key that is a phone number"));
    let a_body = json!({
        "text": a_text,
        "title": a_title,
        "contact": a_contact,
        "channel": "phone",
        "metadata": a_metadata,
    });

    // A batch of two (B1, B2), grouped and full-width forms among them.
    let b1_text = format!(
        "话费被多扣了二十元，要求退还，我的号码{}，身份证{}，扣款卡号{}，回复请发{}",
        p.fresh(Mobile, "B1.text", Some("B1")),
        p.fresh(IdCard, "B1.text", Some("B1")),
        p.fresh_as(BankCard, "B1.text", Some("B1"), |d| grouped(
            d,
            &[4, 4, 4, 4],
            " "
        )),
        p.fresh(Email, "B1.text", Some("B1"))
    );
    let b2_text = format!(
        "营业厅工作人员态度很差，办理业务很慢，留个电话{}，身份证{}，另一个号码{}",
        p.fresh_as(Mobile, "B2.text", Some("B2"), |d| grouped(
            d,
            &[3, 4, 4],
            " "
        )),
        p.fresh_as(IdCard, "B2.text", Some("B2"), |d| grouped(
            d,
            &[6, 8, 4],
            " "
        )),
        p.fresh_as(Mobile, "B2.text", Some("B2"), full_width)
    );
    let batch = json!({ "cases": [
        {
            "text": b1_text,
            "title": format!("话费多扣 {}", p.fresh_as(Mobile, "B1.title", None, |d| grouped(d, &[3, 4, 4], "-"))),
            "contact": p.contact(Email, "B1.contact", "B1"),
            "metadata": { "wx": p.fresh(Mobile, "B1.metadata.wx", None), "bank": p.fresh(BankCard, "B1.metadata.bank", None) },
        },
        {
            "text": b2_text,
            "title": format!("态度差 {}", p.fresh(IdCard, "B2.title", None)),
            "contact": p.contact(IdCard, "B2.contact", "B2"),
            "channel": "web",
            "metadata": { "addr": { "list": [ { "e": p.fresh(Email, "B2.metadata.addr.list[0].e", None) } ] } },
        },
    ]});

    // The handling of A: every free text of every step carries PII. A is assigned, called
    // back (not reached), answered, followed up (不满意), reopened, given an extension and
    // answered again; B1 is assigned, signed for and suspended, and its resolution edited by
    // an admin.
    let reply = |p: &mut Plants, which: &str| {
        format!(
            "已致电客户{}核实，漏电隐患已排除，重复扣费已退回银行卡{}，身份证{}已登记，回执已发至{}。",
            p.fresh_as(Mobile, which, None, |d| format!(
                "+86 {}",
                grouped(d, &[3, 4, 4], "-")
            )),
            p.fresh_as(BankCard, which, None, |d| grouped(d, &[4, 4, 4, 4], " ")),
            p.fresh(IdCard, which, None),
            p.fresh(Email, which, None)
        )
    };
    let a_steps: Vec<(&str, Value)> = vec![
        (
            "actions",
            json!({ "action": "assign", "department": NETWORK,
            "note": format!("客户要求联系{}", p.fresh_as(Mobile, "A.assign.note", None, full_width)) }),
        ),
        (
            "actions",
            json!({ "action": "accept",
            "note": format!("身份证{}已核对", p.fresh_as(IdCard, "A.accept.note", None, |d| grouped(d, &[6, 8, 4], "-"))) }),
        ),
        (
            "contacts",
            json!({ "reached": false,
            "outcome": format!("拨打{}无人接听", p.fresh(Mobile, "A.contact.outcome", None)) }),
        ),
        (
            "notes",
            json!({ "text": format!("客户留言邮箱{}", p.fresh(Email, "A.note.text", None)) }),
        ),
        (
            "actions",
            json!({ "action": "reply", "remedy": "退款", "amount": 20,
            "reply": reply(&mut p, "A.reply") }),
        ),
        (
            "actions",
            json!({ "action": "follow_up", "result": "不满意",
            "comment": format!("钱没退到银行卡{}", p.fresh(BankCard, "A.follow_up.comment", None)) }),
        ),
        (
            "actions",
            json!({ "action": "reopen",
            "reason": format!("客户{}仍不满意", p.fresh(Mobile, "A.reopen.reason", None)) }),
        ),
        (
            "actions",
            json!({ "action": "request_extension", "days": 3,
            "reason": format!("等银行{}回单", p.fresh(BankCard, "A.request_extension.reason", None)) }),
        ),
        (
            "actions",
            json!({ "action": "grant_extension",
            "reason": format!("同意，抄送{}", p.fresh(Email, "A.grant_extension.reason", None)) }),
        ),
        (
            "actions",
            json!({ "action": "reply", "reply": reply(&mut p, "A.reply (again)") }),
        ),
    ];
    let b1_steps: Vec<(&str, Value)> = vec![
        (
            "actions",
            json!({ "action": "assign", "department": NETWORK }),
        ),
        ("actions", json!({ "action": "accept" })),
        (
            "actions",
            json!({ "action": "suspend",
            "reason": format!("等客户提供身份证{}复印件", p.fresh(IdCard, "B1.suspend.reason", None)) }),
        ),
    ];
    let b1_patch = json!({
        "resolution": format!("已退还二十元至银行卡{}，联系人{}", p.fresh(BankCard, "B1.resolution", None), p.fresh(Email, "B1.resolution", None)),
    });

    // A complaint like A's, triaged (not stored) and created by another intake key.
    let t_body = json!({
        "text": format!(
            "家里宽带线路漏电，有起火危险，联系电话{}，邮箱{}，报修多次没人处理，银行卡被重复扣费",
            p.fresh(Mobile, "T.text (triage)", None),
            p.fresh(Email, "T.text (triage)", None)
        ),
        "title": format!("漏电 {}", p.fresh(BankCard, "T.title (triage)", None)),
        "contact": p.fresh(IdCard, "T.contact (triage)", None),
        "metadata": { "m": p.fresh(Mobile, "T.metadata.m (triage)", None) },
    });
    let c_body = json!({
        "text": format!(
            "楼道宽带线路漏电，有起火危险，电话{}，身份证{}，报修多次没人处理，银行卡被重复扣费",
            p.fresh(Mobile, "C.text", Some("C")),
            p.fresh(IdCard, "C.text", Some("C"))
        ),
        "contact": p.contact(Email, "C.contact", "C"),
        "metadata": { "m": p.fresh(BankCard, "C.metadata.m", None) },
    });

    // A line of history through `tousu import` (case I, resolved), with its handling fields and
    // a source field of its own (kept in the metadata); and two bad lines whose errors would
    // quote what was wrong.
    let import_lines = [
        json!({
            "text": format!(
                "小区水表被人动过手脚，水费翻倍，联系电话{}，银行卡{}",
                p.fresh(Mobile, "I.text (import)", Some("I")),
                p.fresh(BankCard, "I.text (import)", Some("I"))
            ),
            "title": format!("水费 {}", p.fresh(Email, "I.title (import)", None)),
            "contact": p.contact(IdCard, "I.contact (import)", "I"),
            "received_at": "2025-06-01 10:00:00",
            "status": "replied",
            "remedy": "退款",
            "department": format!("水务中心 {}", p.fresh(Mobile, "I.department (import)", None)),
            "assignee": p.fresh(Email, "I.assignee (import)", None),
            "resolution": format!(
                "已上门更换水表，退款至银行卡{}，联系人{}",
                p.fresh_as(BankCard, "I.resolution (import)", None, |d| grouped(d, &[4, 4, 4, 4], "-")),
                p.fresh(Mobile, "I.resolution (import)", None)
            ),
            "metadata": {
                "meter": p.fresh(IdCard, "I.metadata.meter (import)", None),
                "n": p.fresh(Mobile, "I.metadata.n (import, a JSON number)", None).parse::<u64>().unwrap(),
            },
            "caller_mobile": p.fresh(Mobile, "I.caller_mobile (import, a source field)", None),
            "likes": 3,
        })
        .to_string(),
        json!({ "text": "宽带坏了", "received_at": p.fresh(Mobile, "bad import line: received_at", None) })
            .to_string(),
        format!(
            r#"{{"text": {}}}"#,
            p.fresh(Mobile, "bad import line: text (a JSON number)", None)
        ),
    ];
    // The reasons of the audited reveals, one per stored case: kept, masked, in the audit trail.
    let mut reasons: Vec<(&'static str, String)> = Vec::new();
    for label in ["A", "B1", "B2", "C", "I"] {
        let phone = p.fresh(Mobile, &format!("{label}.reveal.reason"), None);
        reasons.push((label, format!("回访，客户改用{phone}")));
    }
    let import_file = dir.path().join("history.jsonl");
    std::fs::write(&import_file, import_lines.join("\n") + "\n").unwrap();
    // Case events go to a receiver: what it gets is one more output.
    let receiver = Receiver::start();
    let config = dir.path().join("tousu.toml");
    std::fs::write(
        &config,
        format!(
            // Every safety case alerts at once (not in a digest): each alert is one more output.
            "[alert_rules]\ncase_alerts_need_model = false\ncase_alerts_first_of_matter = false\nmax_case_alerts_per_day = 0\n\n\
             [[events.webhooks]]\nname = \"crm\"\nurl = \"{}\"\nsecret = \"whsec_sweep\"\n",
            receiver.url()
        ),
    )
    .unwrap();

    let mut sweep = Sweep::new(p);
    let imported = cli(&data, &["import", import_file.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&imported.stdout).unwrap();
    assert_eq!(
        (report["imported"].as_u64(), report["bad_count"].as_u64()),
        (Some(1), Some(2)),
        "{report}"
    );
    sweep.check("tousu import report", &imported.stdout);
    sweep.check("tousu import log", &imported.stderr);

    let server = Server::start_with(
        &data,
        &log,
        Options {
            log_level: Some("debug"),
            api_keys: Some(format!(
                "crm:intake:{CRM_KEY},web:intake:{WEB_KEY},ana:analyst:{ANALYST_KEY},\
                 lead:supervisor:{LEAD_KEY}:*,root:admin:{ROOT_KEY}"
            )),
            config: Some(config),
            ..Default::default()
        },
    );
    let mut ids: HashMap<&'static str, String> = HashMap::new();
    // Writes name their key; reads are the analyst's.
    let post = |key: &str, path: &str, headers: &[(&str, &str)], body: &Value| {
        http(&server, "POST", path, key, headers, Some(body))
    };
    let get = |path: &str| http(&server, "GET", path, ANALYST_KEY, &[], None);

    // --- Writes, each answer checked. ---
    let idem = [("Idempotency-Key", "pii-sweep-a-0001")];
    let r = post(CRM_KEY, "/v1/cases", &idem, &a_body);
    assert_eq!(r.status, 201, "{}", r.body);
    let a = r.json();
    ids.insert("A", a["id"].as_str().unwrap().to_string());
    assert!(a["metadata"].to_string().contains(TICKET), "{a}");
    assert!(a["text"].as_str().unwrap().contains("〔手机号〕"), "{a}");
    sweep.check("POST /v1/cases answer (A)", &r.body);
    let r = post(CRM_KEY, "/v1/cases", &idem, &a_body);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("idempotent-replayed"), Some("true"), "{}", r.head);
    sweep.check("POST /v1/cases idempotent replay (A)", &r.body);

    let bidem = [("Idempotency-Key", "pii-sweep-batch-0001")];
    for what in ["answer", "idempotent replay"] {
        let r = post(CRM_KEY, "/v1/cases/batch", &bidem, &batch);
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        for (i, label) in ["B1", "B2"].into_iter().enumerate() {
            let item = &v["results"][i];
            assert_eq!(item["status"], 201, "{item}");
            ids.insert(label, item["case"]["id"].as_str().unwrap().to_string());
        }
        sweep.check(&format!("POST /v1/cases/batch {what}"), &r.body);
    }

    let send = |key: &str, method: &str, path: &str, body: &Value| {
        let r = http(&server, method, path, key, &[], Some(body));
        assert_eq!(r.status, 200, "{method} {path}: {}", r.body);
        r
    };
    for (label, steps) in [("A", &a_steps), ("B1", &b1_steps)] {
        for (what, body) in steps {
            let path = format!("/v1/cases/{}/{what}", ids[label]);
            let r = send(LEAD_KEY, "POST", &path, body);
            sweep.check(
                &format!("POST /v1/cases/{label}/{what} answer ({body})"),
                &r.body,
            );
        }
    }
    let r = send(
        ROOT_KEY,
        "PATCH",
        &format!("/v1/cases/{}", ids["B1"]),
        &b1_patch,
    );
    assert!(
        r.json()["resolution"].as_str().unwrap().contains("〔"),
        "{}",
        r.body
    );
    sweep.check("PATCH /v1/cases/B1 answer (admin)", &r.body);
    let patch =
        |id: &str, body: &Value| send(ANALYST_KEY, "PATCH", &format!("/v1/cases/{id}"), body);
    // A category and grade correction (training data for `export --corrections`).
    let category = a["category"].as_str().unwrap().to_string();
    let other = ["服务问题", "网络问题", "费用问题"]
        .into_iter()
        .find(|c| *c != category)
        .unwrap();
    let grade = if a["grade"] == "一般" {
        "严重"
    } else {
        "一般"
    };
    let r = patch(&ids["A"], &json!({ "category": other, "grade": grade }));
    sweep.check("PATCH /v1/cases/A correction answer", &r.body);

    // The index follows the store: wait until A's resolution and B1's handling are searchable.
    let search = |query: &str| get(&format!("/v1/search?{query}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let replied = search("status=replied&facets=false").json();
        let suspended = search("status=suspended&facets=false").json();
        if replied["total"] == 2 && suspended["total"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the index did not catch up: {replied} {suspended}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A similar complaint from another intake system: suggestions from A's resolution.
    let r = post(WEB_KEY, "/v1/triage", &[], &t_body);
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    let suggestions = t["suggestions"].as_array().unwrap();
    assert!(
        suggestions
            .iter()
            .any(|s| s["case_id"] == ids["A"].as_str()),
        "A's resolution is suggested: {t}"
    );
    assert!(
        t["similar"].as_array().is_some_and(|s| !s.is_empty()),
        "{t}"
    );
    sweep.check("POST /v1/triage answer (another intake key)", &r.body);
    let r = post(WEB_KEY, "/v1/cases", &[], &c_body);
    assert_eq!(r.status, 201, "{}", r.body);
    ids.insert("C", r.json()["id"].as_str().unwrap().to_string());
    sweep.check("POST /v1/cases answer (C, another intake key)", &r.body);

    // --- Reads, once the index has C too. ---
    let deadline = Instant::now() + Duration::from_secs(30);
    while search("facets=false").json()["total"] != 5 {
        assert!(Instant::now() < deadline, "the index did not catch up");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A read that must answer 200, its answer searched as `place`.
    let read = |sweep: &mut Sweep, path: &str, place: &str| {
        let r = get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        sweep.check(place, &r.body);
        r
    };
    let water = search(&format!("q={}", enc("水表"))).json();
    assert_eq!(water["total"], 1, "{water}");
    ids.insert("I", water["hits"][0]["id"].as_str().unwrap().to_string());
    // The audited reveals, by the supervisor of every department: an answer holds its own
    // case's contact and the values of its text (checked, so that the search is known to
    // look), and nothing else.
    for (label, reason) in &reasons {
        let label: &'static str = label;
        let path = format!("/v1/cases/{}/contact", ids[label]);
        let r = http(
            &server,
            "POST",
            &path,
            LEAD_KEY,
            &[],
            Some(&json!({ "reason": reason })),
        );
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{}", r.head);
        let contact = sweep
            .plants
            .all
            .iter()
            .find(|p| p.contact_of == Some(label))
            .unwrap();
        assert_eq!(r.json()["contact"], contact.forms[0].as_str(), "{}", r.body);
        let in_text = r.json()["in_text"].as_array().unwrap().len();
        let typed = sweep
            .plants
            .all
            .iter()
            .filter(|p| p.text_of == Some(label))
            .count();
        assert_eq!(
            in_text, typed,
            "every value typed in {label}'s text: {}",
            r.body
        );
        sweep.check_allowing(
            &format!("POST /v1/cases/{label}/contact answer (the reveal)"),
            r.body.as_bytes(),
            |p| p.text_of == Some(label) || p.contact_of == Some(label),
        );
    }
    assert!(
        get(&format!("/v1/cases/{}/audit", ids["A"]))
            .body
            .contains("回访，客户改用〔手机号〕"),
        "the reason is kept, masked"
    );
    for label in ["A", "B1", "B2", "C", "I"] {
        let id = &ids[label];
        for (path, what) in [
            (format!("/v1/cases/{id}"), "GET"),
            (format!("/v1/cases/{id}/audit"), "audit"),
            (format!("/v1/cases/{id}/similar"), "similar"),
            (format!("/v1/cases/{id}/links"), "links"),
            (format!("/v1/cases/{id}/suggestions"), "suggestions"),
            (format!("/v1/cases/{id}/explanation"), "explanation"),
        ] {
            read(&mut sweep, &path, &format!("{what} {label} ({path})"));
        }
    }
    let words = [
        "漏电",
        "宽带",
        "扣费",
        "银行卡",
        "身份证",
        "电话",
        "邮箱",
        "态度",
        "话费",
    ];
    let mut highlighted = false;
    for w in words {
        let path = format!("/v1/search?q={}", enc(w));
        let r = read(&mut sweep, &path, &format!("GET /v1/search?q={w}"));
        highlighted |= r.body.contains("<em>");
    }
    assert!(highlighted, "search highlights matches");
    let found_a = search(&format!("q={}", enc("漏电"))).json();
    assert!(found_a["hits"].to_string().contains(&ids["A"]), "{found_a}");
    // Every planted value as the query itself, and the whole history with its facets.
    let queries: Vec<String> = sweep
        .plants
        .all
        .iter()
        .flat_map(|p| p.forms.clone())
        .collect();
    for q in &queries {
        let path = format!("/v1/search?q={}", enc(q));
        read(&mut sweep, &path, "GET /v1/search?q=<a planted value>");
    }
    for query in [
        "limit=100",
        "limit=100&sort=newest",
        "status=replied",
        "department=%E7%BD%91%E7%BB%9C%E8%BF%90%E7%BB%B4%E4%B8%AD%E5%BF%83",
    ] {
        let path = format!("/v1/search?{query}");
        read(&mut sweep, &path, &format!("GET {path}"));
    }
    let all = search("limit=100").json();
    assert_eq!(all["total"], 5, "{all}");
    assert!(
        all["facets"]["department"].to_string().contains(NETWORK),
        "{all}"
    );
    for path in [
        "/v1/trends?dimension=department",
        "/v1/trends?dimension=phrase&bucket=hour",
        "/v1/trends?dimension=category",
        "/v1/trends/rising?dimension=phrase",
        "/v1/trends/rising?dimension=department",
        "/v1/topics",
        "/v1/alerts",
        "/metrics",
    ] {
        read(&mut sweep, path, &format!("GET {path}"));
    }
    // The audit trail searched across cases, as the admin sees it (the reveals among it).
    for path in [
        "/v1/audit?full=true&limit=500",
        "/v1/audit?action=reveal_contact",
    ] {
        let r = http(&server, "GET", path, ROOT_KEY, &[], None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.body.contains("reveal_contact"), "{}", r.body);
        sweep.check(&format!("GET {path} (admin)"), &r.body);
    }
    let alerts = get("/v1/alerts").json();
    assert!(
        alerts.to_string().contains("safety_case"),
        "A's 漏电/起火 raised a safety alert: {alerts}"
    );

    // The case events of A's and B1's steps, once the last of each has arrived.
    let steps_of = |case: &str| -> Vec<String> {
        receiver
            .received()
            .iter()
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .filter(|e| e["case_id"] == case)
            .map(|e| e["step"].as_str().unwrap_or("create").to_string())
            .collect()
    };
    assert!(
        wait_until(Duration::from_secs(10), || {
            steps_of(&ids["A"]).iter().filter(|s| *s == "reply").count() == 2
                && steps_of(&ids["B1"]).iter().any(|s| s == "suspend")
        }),
        "case events of A and B1: {:?} {:?}",
        steps_of(&ids["A"]),
        steps_of(&ids["B1"])
    );
    for r in receiver.received() {
        sweep.check("a case event's webhook body", &r.body);
        sweep.check("a case event's webhook URI", &r.uri);
    }

    // The exports over the API, CSV and xlsx: the whole history as an analyst and as a
    // supervisor, and a filtered one.
    for (key, who, query) in [
        (ANALYST_KEY, "analyst", String::new()),
        (LEAD_KEY, "supervisor", String::new()),
        (
            ANALYST_KEY,
            "analyst, filtered",
            format!("&q={}", enc("漏电")),
        ),
    ] {
        let bearer = format!("Bearer {key}");
        let path = format!("/v1/export?format=csv{query}");
        let r = http(&server, "GET", &path, key, &[], None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(
            r.body.contains(&ids["A"]) && r.body.contains(ORDER_NUMBER),
            "{path} holds A and its text: {}",
            r.body
        );
        sweep.check(&format!("GET {path} ({who})"), &r.body);
        let path = format!("/v1/export?format=xlsx{query}");
        let (r, bytes) = server
            .send_binary("GET", &path, &[("Authorization", &bearer)])
            .unwrap();
        assert_eq!(r.status, 200, "{path}: {}", r.head);
        let cells = workbook_cells(&bytes);
        assert!(
            cells.contains(&ids["A"]) && cells.contains(ORDER_NUMBER),
            "{path} holds A and its text: {cells}"
        );
        sweep.check(&format!("GET {path} ({who}): the cells"), &cells);
        sweep.check(&format!("GET {path} ({who}): the file"), &bytes);
    }

    // The files as the running server left them: the WAL still holds the recent pages (each
    // case's earlier versions among them) before the checkpoint at shutdown.
    let wal = data.join("tousu.db-wal");
    let wal_while_serving = std::fs::metadata(&wal).map_or(0, |m| m.len());
    scan_files(&mut sweep, &data, "while serving");

    server.stop();
    let server_log = std::fs::read(&log).unwrap();
    assert!(
        String::from_utf8_lossy(&server_log).contains("alert raised"),
        "the log was captured"
    );
    sweep.check("tousu serve log (TOUSU_LOG=debug)", &server_log);
    sweep.check(
        "tousu serve stdout",
        std::fs::read(log.with_extension("out")).unwrap(),
    );

    // --- Exports. ---
    let jsonl = cli(&data, &["export"]);
    assert_eq!(String::from_utf8_lossy(&jsonl.stdout).lines().count(), 5);
    assert!(String::from_utf8_lossy(&jsonl.stdout).contains(ORDER_NUMBER));
    sweep.check("tousu export (JSONL)", &jsonl.stdout);
    sweep.check("tousu export (JSONL) log", &jsonl.stderr);
    let csv_path = dir.path().join("cases.csv");
    let csv = cli(
        &data,
        &[
            "export",
            "--format",
            "csv",
            "--out",
            csv_path.to_str().unwrap(),
        ],
    );
    let csv_file = std::fs::read(&csv_path).unwrap();
    assert!(String::from_utf8_lossy(&csv_file).contains(&ids["A"]));
    sweep.check("tousu export --format csv", &csv_file);
    sweep.check(
        "tousu export --format csv (stdout and log)",
        [csv.stdout, csv.stderr].concat(),
    );
    let xlsx_path = dir.path().join("cases.xlsx");
    let xlsx = cli(
        &data,
        &[
            "export",
            "--format",
            "xlsx",
            "--out",
            xlsx_path.to_str().unwrap(),
        ],
    );
    let cells = workbook_cells(&std::fs::read(&xlsx_path).unwrap());
    assert!(cells.contains(&ids["A"]) && cells.contains(ORDER_NUMBER));
    sweep.check("tousu export --format xlsx: the cells", &cells);
    sweep.check(
        "tousu export --format xlsx (stdout and log)",
        [xlsx.stdout, xlsx.stderr].concat(),
    );
    let corrections = cli(&data, &["export", "--corrections"]);
    let rows = String::from_utf8_lossy(&corrections.stdout).into_owned();
    assert_eq!(rows.lines().count(), 1, "{rows}");
    assert!(
        rows.contains(&ids["A"]) && rows.contains("〔手机号〕"),
        "{rows}"
    );
    sweep.check("tousu export --corrections", &corrections.stdout);
    sweep.check("tousu export --corrections log", &corrections.stderr);
    let audit = cli(&data, &["audit", "--full", "--limit", "100000"]);
    let events = String::from_utf8_lossy(&audit.stdout).into_owned();
    assert_eq!(
        events.matches("reveal_contact").count(),
        reasons.len(),
        "{events}"
    );
    sweep.check("tousu audit --full", &audit.stdout);
    sweep.check("tousu audit log", &audit.stderr);

    // --- Storage: the files' bytes (database, WAL, index, anything else) ... ---
    let db = data.join("tousu.db");
    assert!(db.exists());
    let wal_after = std::fs::metadata(&wal).map_or(0, |m| m.len());
    scan_files(&mut sweep, &data, "after shutdown");

    // ... every cell of every table ...
    let (cells, originals, contacts) = sqlite_cells(&db);
    assert!(
        cells
            .iter()
            .any(|(_, b)| String::from_utf8_lossy(b).contains(TICKET))
    );
    // The cases' documents are read unpacked: the sweep sees their texts.
    assert!(
        cells
            .iter()
            .any(|(place, b)| place.starts_with("SQLite cases.doc")
                && String::from_utf8_lossy(b).contains(ORDER_NUMBER))
    );
    for (place, bytes) in &cells {
        sweep.check(place, bytes);
    }
    assert_eq!(originals.len(), 5, "{originals:?}");
    let label_of: HashMap<&str, &'static str> =
        ids.iter().map(|(l, id)| (id.as_str(), *l)).collect();
    for (id, original) in &originals {
        let label = label_of[id.as_str()];
        // Everything typed in the case's text is there, as received ...
        let typed: Vec<&Plant> = sweep
            .plants
            .all
            .iter()
            .filter(|p| p.text_of == Some(label))
            .collect();
        assert!(!typed.is_empty());
        for p in typed {
            assert!(
                original.contains(&p.forms[0]),
                "original_text of {label} lacks {} ({}): {original}",
                p.forms[0],
                p.field
            );
        }
        // ... and nothing else.
        sweep.check_allowing(
            &format!("SQLite cases.original_text of {label}"),
            original.as_bytes(),
            |p| p.text_of == Some(label),
        );
    }
    // The contact column holds each case's contact as sent, and nothing else.
    assert_eq!(contacts.len(), 5, "{contacts:?}");
    for (id, contact) in &contacts {
        let label = label_of[id.as_str()];
        let sent = sweep
            .plants
            .all
            .iter()
            .find(|p| p.contact_of == Some(label))
            .unwrap();
        assert_eq!(contact, &sent.forms[0], "cases.contact of {label}");
        sweep.check_allowing(
            &format!("SQLite cases.contact of {label}"),
            contact.as_bytes(),
            |p| p.contact_of == Some(label),
        );
    }

    // ... and every term, fast-field dictionary entry and stored document of the index.
    let index = index_contents(&data.join("index"));
    let has = |needle: &str, kind: &str| {
        index
            .items
            .iter()
            .any(|(place, b)| place.contains(kind) && String::from_utf8_lossy(b).contains(needle))
    };
    assert!(has(ORDER_NUMBER, "term of `text`"), "digit runs are terms");
    assert!(has("漏电", "term of `text`"));
    // The texts are the store's: the index's stored documents hold case numbers and times.
    assert!(!has(ORDER_NUMBER, "stored document") && !has("漏电", "stored document"));
    assert!(has("TS", "stored document"));
    assert!(has(NETWORK, "fast-field dictionary of `department`"));
    assert!(index.stored >= 4 && index.terms > 50);
    for (place, bytes) in &index.items {
        sweep.check(place, bytes);
    }

    eprintln!(
        "pii sweep: {} values in {} fields searched for in {} places ({} index terms, {} stored documents of which {} deleted, {} SQLite cells, a WAL of {wal_while_serving} bytes while serving and {wal_after} after shutdown)",
        sweep.plants.all.len(),
        sweep
            .plants
            .all
            .iter()
            .map(|p| p.field.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        sweep.places,
        index.terms,
        index.stored,
        index.deleted,
        cells.len(),
    );
    assert!(
        sweep.leaks.is_empty(),
        "{} planted values found where they must not be:\n{}",
        sweep.leaks.len(),
        sweep.leaks.join("\n")
    );
}
