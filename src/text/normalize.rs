//! Normalisation: full-width → half-width (NFKC), traditional → simplified (OpenCC t2s),
//! control characters dropped and whitespace runs folded to one space.

use std::sync::LazyLock;

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use unicode_normalization::UnicodeNormalization;

/// OpenCC's t2s dictionaries take ~10 ms to load: once per process.
static T2S: LazyLock<OpenCC> = LazyLock::new(|| {
    OpenCC::from_config(BuiltinConfig::T2s).expect("the embedded OpenCC t2s config is valid")
});

/// Characters OpenCC's t2s tables change only inside phrases (瞭解 → 了解, 答覆 → 答复), never
/// alone. Read off `TSPhrases.txt` against `TSCharacters.txt` of ferrous-opencc 0.4.0: a
/// phrase entry whose changed character is unchanged as a single character.
const CHANGED_IN_PHRASES: &str = "么俱彷沈牴瞭藉衹覆";

/// Code points whose text t2s may change: every character it converts on its own (asked of
/// the converter itself, one character per line so that no phrase spans two) and those of
/// [`CHANGED_IN_PHRASES`]. Text without any is left as it is, unconverted: most complaints
/// are simplified already, and the dictionary walk is the dearest part of normalising.
static T2S_TOUCHES: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let ranges = [0x3000..=0x9FFF_u32, 0xF900..=0xFAFF, 0x2_0000..=0x2_FFFF];
    let chars: Vec<char> = ranges
        .into_iter()
        .flatten()
        .filter_map(char::from_u32)
        .collect();
    let mut input = String::with_capacity(chars.len() * 5);
    for c in &chars {
        input.push(*c);
        input.push('\n');
    }
    let mut bits = vec![0u64; (0x3_0000 / 64) as usize];
    let mut mark = |c: char| bits[c as usize / 64] |= 1 << (c as usize % 64);
    for (c, out) in chars.iter().zip(T2S.convert(&input).split('\n')) {
        if out.chars().ne(std::iter::once(*c)) {
            mark(*c);
        }
    }
    CHANGED_IN_PHRASES.chars().for_each(mark);
    bits
});

/// Whether t2s may change `text` (see [`T2S_TOUCHES`]).
fn t2s_may_change(text: &str) -> bool {
    let bits = &*T2S_TOUCHES;
    text.chars().any(|c| {
        let i = c as usize;
        (0x3000..0x3_0000).contains(&i) && bits[i / 64] & (1 << (i % 64)) != 0
    })
}

/// OpenCC maps a handful of characters in chains (A→B, B→C); converting until nothing changes
/// makes `normalize` idempotent. Two extra passes were always enough on the t2s tables.
const MAX_T2S_PASSES: usize = 3;

/// Returns the normalised form of `text`: the form every later stage (PII masking,
/// segmentation, the model, the index) sees. Idempotent: `normalize(normalize(x)) == normalize(x)`.
///
/// - NFKC folds full-width letters, digits and punctuation (`１３８`, `ＡＢＣ`, `，`) to their
///   half-width forms, which PII patterns and the tokenizer expect. CJK ideographs are unchanged.
/// - Traditional characters become simplified (`投訴` → `投诉`).
/// - Control and format characters (zero-width spaces, BOM) are dropped; every run of
///   whitespace, newlines included, becomes one space; the ends are trimmed.
pub fn normalize(text: &str) -> String {
    let folded = fold(text);
    if !t2s_may_change(&folded) {
        return folded;
    }
    simplified(folded)
}

/// Folded text converted to simplified until nothing changes.
fn simplified(folded: String) -> String {
    let mut current = folded;
    for _ in 0..MAX_T2S_PASSES {
        let next = fold(&T2S.convert(&current));
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// NFKC, control characters out, whitespace folded and trimmed.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkc() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else if c.is_control() || is_format(c) {
            continue;
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Invisible format characters that NFKC keeps but that split words for no reason.
fn is_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_and_whitespace() {
        assert_eq!(
            normalize("  手机号：１３８ ００１３\n\t８０００ "),
            "手机号:138 0013 8000"
        );
        assert_eq!(normalize("ＡＢＣ，ｘｙｚ！"), "ABC,xyz!");
        assert_eq!(normalize("宽\u{200B}带"), "宽带");
        assert_eq!(normalize(" \n\t "), "");
    }

    #[test]
    fn converts_traditional_to_simplified() {
        assert_eq!(normalize("我要投訴寬帶網絡"), "我要投诉宽带网络");
        assert_eq!(normalize("營業廳服務態度很差"), "营业厅服务态度很差");
    }

    #[test]
    fn converts_characters_changed_only_inside_phrases() {
        assert_eq!(normalize("我不瞭解,請答覆"), "我不了解,请答复");
        assert!(t2s_may_change("覆"));
        assert!(t2s_may_change("網"));
        assert!(!t2s_may_change("网络 ok"));
    }

    /// `normalize` as it was before the pre-check: always through the converter.
    fn always_converted(text: &str) -> String {
        simplified(fold(text))
    }

    #[test]
    fn the_pre_check_changes_no_result() {
        let texts = [
            "我不瞭解,請答覆",
            "沈默的營業廳,藉口很多",
            "彷彿俱樂部,衹有么",
            "客户反映4G信号差",
            "ＡＢＣ，宽带",
        ];
        for t in texts {
            assert_eq!(normalize(t), always_converted(t), "{t}");
        }
    }

    #[test]
    fn leaves_simplified_and_english_alone() {
        let s = "客户反映4G信号差, please call back.";
        assert_eq!(normalize(s), s);
    }
}
