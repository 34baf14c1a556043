//! Property tests: normalisation is idempotent; PII masking catches checksum-valid ids and
//! Luhn-valid cards in any context, leaves invalid ones alone, and reports char-boundary offsets.

use proptest::prelude::*;
use tousu::domain::PiiKind;
use tousu::text::{mask_pii, normalize};

use crate::support::checksums::{id_check_digit, luhn_check_digit};

/// Text with CJK (simplified and traditional), full-width forms, ASCII, digits and whitespace.
fn messy_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            proptest::char::range('\u{4E00}', '\u{9FFF}'),
            proptest::char::range('\u{FF01}', '\u{FF5E}'),
            proptest::char::range(' ', '~'),
            Just('\n'),
            Just('\u{3000}'),
            Just('\u{200B}'),
            Just('。'),
        ],
        0..60,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

/// Chinese filler that never ends or starts with a digit.
fn filler() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::char::range('\u{4E00}', '\u{9FA5}'), 0..8)
        .prop_map(|cs| cs.into_iter().collect())
}

/// 18-digit 身份证 numbers with a valid date and check digit.
fn valid_id_card() -> impl Strategy<Value = String> {
    (
        110000u32..660000,
        1930u32..2020,
        1u32..13,
        1u32..29,
        0u32..1000,
    )
        .prop_map(|(region, y, m, d, seq)| {
            let first17 = format!("{region:06}{y:04}{m:02}{d:02}{seq:03}");
            format!("{first17}{}", id_check_digit(&first17))
        })
}

/// Bank card numbers of 16–19 digits passing Luhn, starting 62 (UnionPay) or 4.
fn valid_card() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("62"), Just("4")],
        16usize..20,
        any::<u64>(),
    )
        .prop_map(|(prefix, len, seed)| {
            let body = len - 1 - prefix.len();
            let mut digits = prefix.to_string();
            let mut s = seed;
            while digits.len() < prefix.len() + body {
                digits.push(char::from(b'0' + (s % 10) as u8));
                s = s / 10 + 7919;
            }
            digits.truncate(prefix.len() + body);
            let check = luhn_check_digit(&digits);
            format!("{digits}{check}")
        })
}

fn kinds(text: &str) -> Vec<PiiKind> {
    mask_pii(text).spans.iter().map(|s| s.kind).collect()
}

proptest! {
    #[test]
    fn normalize_is_idempotent(s in messy_text()) {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once.clone());
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
    }

    #[test]
    fn valid_id_cards_are_masked(a in filler(), id in valid_id_card(), b in filler()) {
        let text = format!("{a}身份证{id}{b}");
        prop_assert_eq!(kinds(&text), vec![PiiKind::IdCard]);
        prop_assert!(!mask_pii(&text).text.contains(&id));
    }

    #[test]
    fn id_cards_with_a_wrong_check_digit_are_left(a in filler(), id in valid_id_card(), b in filler()) {
        let last = id.chars().last().unwrap();
        let wrong = if last == '0' { '1' } else { '0' };
        let bad = format!("{}{wrong}", &id[..17]);
        let text = format!("{a}证件号{bad}{b}");
        // A wrong check digit is not an id; the 18 digits may still be a Luhn-valid card.
        prop_assert!(!kinds(&text).contains(&PiiKind::IdCard));
    }

    #[test]
    fn luhn_valid_cards_are_masked(a in filler(), card in valid_card(), b in filler()) {
        let text = format!("{a}卡号{card}{b}");
        let found = kinds(&text);
        prop_assert_eq!(found.len(), 1);
        prop_assert!(!mask_pii(&text).text.contains(&card));
    }

    #[test]
    fn luhn_invalid_cards_are_left(a in filler(), card in valid_card(), b in filler()) {
        let last = card.as_bytes()[card.len() - 1] - b'0';
        let bad = format!("{}{}", &card[..card.len() - 1], (last + 1) % 10);
        let text = format!("{a}卡号{bad}{b}");
        prop_assert!(!kinds(&text).contains(&PiiKind::BankCard));
    }

    #[test]
    fn mobiles_are_masked_right_after_chinese(a in filler(), n in 3u64..10, rest in 0u64..1_000_000_000, b in filler()) {
        let phone = format!("1{n}{rest:09}");
        let text = format!("{a}电话{phone}{b}");
        prop_assert_eq!(kinds(&text), vec![PiiKind::Mobile]);
    }

    #[test]
    fn offsets_are_char_boundaries_and_point_at_the_value(s in messy_text(), id in valid_id_card(), t in messy_text()) {
        let text = normalize(&format!("{s}。{id}。{t}"));
        let m = mask_pii(&text);
        for span in &m.spans {
            prop_assert!(text.is_char_boundary(span.byte_start) && text.is_char_boundary(span.byte_end));
            let by_chars: String = text.chars().skip(span.start).take(span.end - span.start).collect();
            prop_assert_eq!(by_chars.as_str(), &text[span.byte_start..span.byte_end]);
        }
        prop_assert!(m.spans.iter().any(|s| s.kind == PiiKind::IdCard));
    }
}
