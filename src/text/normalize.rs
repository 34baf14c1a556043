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
    if folded.is_empty() || folded.is_ascii() {
        return folded;
    }
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
    fn leaves_simplified_and_english_alone() {
        let s = "客户反映4G信号差, please call back.";
        assert_eq!(normalize(s), s);
    }
}
