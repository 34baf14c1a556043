//! PII masking: 手机号, 身份证 (checksum), 银行卡 (Luhn) and e-mail addresses are replaced by
//! typed placeholders before any text is indexed, logged or fed to a model.
//!
//! Rust `regex`'s Unicode `\b` sees no boundary between `话` and `1`, so every number pattern is
//! guarded by checking that the characters on either side are not digits.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::PiiKind;

/// One masked value: its kind and where it was in the text given to [`mask_pii`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PiiSpan {
    /// What was found.
    pub kind: PiiKind,
    /// Start, in characters (Unicode scalar values).
    pub start: usize,
    /// End (exclusive), in characters.
    pub end: usize,
    /// Start, in bytes of the UTF-8 text (always a char boundary).
    pub byte_start: usize,
    /// End (exclusive), in bytes.
    pub byte_end: usize,
}

/// Text with its PII replaced, and what was replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Masked {
    /// The text with each value replaced by its kind's placeholder, e.g. `〔手机号〕`.
    pub text: String,
    /// The values found, in text order, with offsets into the *unmasked* input.
    pub spans: Vec<PiiSpan>,
}

// Candidates are wider than the values: each is then checked (guards, checksum, Luhn).
static MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}").expect("valid regex")
});
// Also as written in groups of 6-8-4 (region, birth date, sequence and check).
static ID_CARD_18: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[1-9][0-9]{5}[ -]?[0-9]{8}[ -]?[0-9]{3}[0-9Xx]").expect("valid regex")
});
static ID_CARD_15: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[1-9][0-9]{14}").expect("valid regex"));
static BANK_CARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9]{4}(?:[ -]?[0-9]{4}){3}(?:[ -]?[0-9]{1,3})?").expect("valid regex")
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .expect("valid regex")
});

/// Finds and masks PII in `text` (normally already [`normalize`](super::normalize)d, so that
/// full-width digits are ASCII). Spans never overlap; where candidates overlap, the first kind
/// checked wins, in the order 身份证, 银行卡, 手机号, e-mail.
pub fn mask_pii(text: &str) -> Masked {
    let mut found: Vec<(Range<usize>, PiiKind)> = Vec::new();
    let mut take = |re: &Regex, kind: PiiKind, valid: &dyn Fn(&str) -> bool| {
        let mut at = 0;
        while let Some(m) = re.find_at(text, at) {
            let r = m.range();
            if digit_guarded(text, &r)
                && valid(m.as_str())
                && !found
                    .iter()
                    .any(|(o, _)| o.start < r.end && r.start < o.end)
            {
                at = r.end;
                found.push((r, kind));
            } else {
                // A candidate that is not a value may have swallowed the start of one (in
                // `身份证… 6222…`, a card candidate runs from the id's last digits into the
                // card): look again from its second character, not from its end.
                at = r.start + text[r.start..].chars().next().map_or(1, char::len_utf8);
            }
        }
    };
    take(&ID_CARD_18, PiiKind::IdCard, &|s| {
        id_card_18_valid(&digits(s))
    });
    take(&BANK_CARD, PiiKind::BankCard, &|s| luhn_valid(&digits(s)));
    take(&MOBILE, PiiKind::Mobile, &|_| true);
    take(&ID_CARD_15, PiiKind::IdCard, &id_card_15_valid);
    for m in EMAIL.find_iter(text) {
        let r = m.range();
        if !found
            .iter()
            .any(|(o, _)| o.start < r.end && r.start < o.end)
        {
            found.push((r, PiiKind::Email));
        }
    }
    found.sort_by_key(|(r, _)| r.start);

    let mut out = String::with_capacity(text.len());
    let mut spans = Vec::with_capacity(found.len());
    let (mut last, mut chars_before) = (0, 0);
    for (r, kind) in found {
        chars_before += text[last..r.start].chars().count();
        let len = text[r.clone()].chars().count();
        out.push_str(&text[last..r.start]);
        out.push_str(kind.placeholder());
        spans.push(PiiSpan {
            kind,
            start: chars_before,
            end: chars_before + len,
            byte_start: r.start,
            byte_end: r.end,
        });
        chars_before += len;
        last = r.end;
    }
    out.push_str(&text[last..]);
    Masked { text: out, spans }
}

/// A free-text value a person or system typed (a title, a resolution, a note, a name, a
/// metadata string) as it may be stored, indexed and shown: as given, with each PII value
/// replaced by its placeholder. Values written in full-width digits (`１３８…`) are found too,
/// and nothing else of the text changes (its lines, its wording, its traditional characters).
pub fn mask_free_text(text: &str) -> std::borrow::Cow<'_, str> {
    // Full-width forms folded one character for one, so that offsets in characters carry over.
    let folded: String = text.chars().map(half_width).collect();
    let masked = mask_pii(&folded);
    if masked.spans.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut spans = masked.spans.iter().peekable();
    for (i, c) in text.chars().enumerate() {
        match spans.peek() {
            Some(s) if i == s.start => out.push_str(s.kind.placeholder()),
            Some(s) if i > s.start && i < s.end => {}
            _ => out.push(c),
        }
        if spans.peek().is_some_and(|s| i + 1 >= s.end) {
            spans.next();
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The half-width form of a full-width ASCII character (`１` → `1`, `＠` → `@`, the ideographic
/// space → a space); any other character as it is.
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        c => c,
    }
}

/// Masks every string of a JSON value, at any depth (object keys included: an intake system
/// may key a map by phone number), and every number that is a value (a phone or card number
/// sent as a JSON number becomes its placeholder string).
pub fn mask_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(m) = mask_free_text(s) {
                *s = m;
            }
        }
        Value::Number(n) => {
            if let std::borrow::Cow::Owned(m) = mask_free_text(&n.to_string()) {
                *value = Value::String(m);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut v) in entries {
                mask_json(&mut v);
                let mut key = mask_free_text(&k).into_owned();
                // Two keys that mask alike (two phone numbers) both stay.
                if map.contains_key(&key) {
                    let base = key.clone();
                    key = (2..)
                        .map(|n| format!("{base}#{n}"))
                        .find(|k| !map.contains_key(k))
                        .expect("a free key");
                }
                map.insert(key, v);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// A salted SHA-256 of a contact (phone, id number, e-mail), for repeat detection without
/// keeping the value. Digits-only for numbers, lower-case for e-mail, so formatting and
/// a `+86` prefix do not change the hash.
pub fn contact_hash(contact: &str, salt: &str) -> String {
    let canonical = if contact.contains('@') {
        contact.trim().to_lowercase()
    } else {
        let d = digits(contact);
        match d.strip_prefix("86") {
            Some(rest) if rest.len() == 11 => rest.to_string(),
            _ => d.to_uppercase(),
        }
    };
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0u8]);
    h.update(canonical.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// No digit (or `+`, `.`, for decimals) immediately before or after the candidate.
fn digit_guarded(text: &str, r: &Range<usize>) -> bool {
    let mut before = text[..r.start].chars().rev();
    let mut after = text[r.end..].chars();
    let is_num = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    // A `.` joins digits into a decimal only with a digit on its other side: `12.13612345678`
    // is a number, `电话13612345678.` and `No.6222…` are values.
    let (b, a) = (before.next(), after.next());
    let decimal_before = b == Some('.') && is_num(before.next());
    let decimal_after = a == Some('.') && is_num(after.next());
    !(is_num(b) || b == Some('+') || decimal_before)
        && !(is_num(a) || a == Some('X') || a == Some('x') || decimal_after)
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// GB 11643-1999 check digit over the first 17 digits, and a plausible birth date.
fn id_card_18_valid(s: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = s.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == b[17].to_ascii_uppercase() && plausible_date(&s[6..14])
}

/// The old 15-digit form has no checksum: require a valid 19yy birth date at digits 7–12.
fn id_card_15_valid(s: &str) -> bool {
    s.len() == 15 && plausible_date(&format!("19{}", &s[6..12]))
}

/// `yyyymmdd` with a year 1900–2099, month 1–12 and day 1–31.
fn plausible_date(yyyymmdd: &str) -> bool {
    let n = |r: Range<usize>| yyyymmdd.get(r).and_then(|x| x.parse::<u32>().ok());
    matches!(
        (n(0..4), n(4..6), n(6..8)),
        (Some(1900..=2099), Some(1..=12), Some(1..=31))
    )
}

/// The Luhn (mod 10) check used by bank card numbers.
fn luhn_valid(number: &str) -> bool {
    if !(16..=19).contains(&number.len()) {
        return false;
    }
    let sum: u32 = number
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<PiiKind> {
        mask_pii(text).spans.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn masks_mobile_directly_after_chinese() {
        let m = mask_pii("联系电话13812345678，谢谢");
        assert_eq!(m.text, "联系电话〔手机号〕，谢谢");
        assert_eq!(m.spans[0].start, 4);
        assert_eq!(m.spans[0].end, 15);
    }

    #[test]
    fn masks_mobile_with_prefix_and_separators() {
        assert_eq!(kinds("电话+86 138-1234-5678"), vec![PiiKind::Mobile]);
        assert_eq!(kinds("电话 8613812345678"), vec![PiiKind::Mobile]);
        assert_eq!(kinds("号码138 1234 5678已停机"), vec![PiiKind::Mobile]);
    }

    #[test]
    fn leaves_longer_digit_runs_and_landlines_alone() {
        assert!(kinds("订单号213812345678901").is_empty());
        assert!(kinds("座机0731-84512345").is_empty());
        assert!(kinds("金额138.50元").is_empty());
    }

    #[test]
    fn id_card_needs_its_checksum() {
        // 11010519491231002X is the standard's worked example.
        assert_eq!(kinds("身份证11010519491231002X"), vec![PiiKind::IdCard]);
        assert!(kinds("身份证110105194912310021").is_empty());
        assert_eq!(kinds("老身份证110105491231002"), vec![PiiKind::IdCard]);
    }

    #[test]
    fn id_card_may_be_grouped() {
        assert_eq!(kinds("身份证110105 19491231 002X"), vec![PiiKind::IdCard]);
        assert_eq!(kinds("身份证110105-19491231-002X"), vec![PiiKind::IdCard]);
        assert!(kinds("身份证110105 19491231 0021").is_empty());
    }

    #[test]
    fn a_value_right_after_another_is_found() {
        // A card candidate running from the phone's last digits into the card (and failing its
        // guard) must not hide the card.
        assert_eq!(
            kinds("电话13612340074 6222024000000395950"),
            vec![PiiKind::Mobile, PiiKind::BankCard]
        );
        assert_eq!(
            mask_pii("13612340074 110105197601090369 6222024000000395950").text,
            "〔手机号〕 〔身份证〕 〔银行卡〕"
        );
    }

    #[test]
    fn bank_card_needs_luhn() {
        assert_eq!(
            kinds("卡号6222020200112233445"),
            kinds("卡号6222020200112233445")
        );
        assert_eq!(
            kinds("卡号4111 1111 1111 1111扣款"),
            vec![PiiKind::BankCard]
        );
        assert!(kinds("卡号4111111111111112").is_empty());
    }

    #[test]
    fn masks_email() {
        let m = mask_pii("发到zhang.san@example.com.cn了");
        assert_eq!(m.text, "发到〔邮箱〕了");
    }

    #[test]
    fn contact_hash_ignores_formatting_but_not_salt() {
        let a = contact_hash("+86 138-1234-5678", "s");
        assert_eq!(a, contact_hash("13812345678", "s"));
        assert_ne!(a, contact_hash("13812345678", "t"));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn free_text_is_kept_verbatim_unless_it_holds_pii() {
        assert_eq!(mask_free_text("张三（维修部）"), "张三（维修部）");
        assert_eq!(
            mask_free_text("已聯繫客戶１３６１２３４５６７８退款\n  第二行"),
            "已聯繫客戶〔手机号〕退款\n  第二行",
            "only the value changes: the lines, spaces and traditional characters stay"
        );
        assert_eq!(
            mask_free_text("电话13612345678. 卡号No.6228480012345678903，价格12.13612345678"),
            "电话〔手机号〕. 卡号No.〔银行卡〕，价格12.13612345678",
            "a full stop after a value, or `No.` before one, is no decimal point"
        );
        let mut v = serde_json::json!({
            "ticket": "ＡＢ-1",
            "caller": {"phone": "13612345678", "names": ["李四", "a@b.cn"]},
            "13712345678": 1,
            "13712345679": 2,
            "callback": 13812345678_u64,
            "count": 3
        });
        mask_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "ticket": "ＡＢ-1",
                "caller": {"phone": "〔手机号〕", "names": ["李四", "〔邮箱〕"]},
                "〔手机号〕": 1,
                "〔手机号〕#2": 2,
                "callback": "〔手机号〕",
                "count": 3
            })
        );
    }
}
