//! The window of a very long text that the pipeline processes.

/// Texts longer than this many characters are processed on a head + tail window.
/// Complaints run to a few thousand characters at most; longer input is usually pasted
/// attachments, and the head (what happened) and tail (what is demanded) carry the signal.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Characters kept from the start of an over-long text.
pub const WINDOW_HEAD_CHARS: usize = 15_000;
/// Characters kept from the end of an over-long text.
pub const WINDOW_TAIL_CHARS: usize = MAX_TEXT_CHARS - WINDOW_HEAD_CHARS;
/// Joins head and tail so that no word or PII value is formed across the cut.
const WINDOW_JOIN: &str = " … ";

/// Returns `text` itself when it has at most [`MAX_TEXT_CHARS`] characters; otherwise its first
/// [`WINDOW_HEAD_CHARS`] and last [`WINDOW_TAIL_CHARS`] characters joined by `" … "`, and `true`.
pub fn head_tail_window(text: &str) -> (std::borrow::Cow<'_, str>, bool) {
    let n = text.chars().count();
    if n <= MAX_TEXT_CHARS {
        return (text.into(), false);
    }
    let head_end = text
        .char_indices()
        .nth(WINDOW_HEAD_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let tail_start = text
        .char_indices()
        .nth(n - WINDOW_TAIL_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let mut s = String::with_capacity(head_end + WINDOW_JOIN.len() + text.len() - tail_start);
    s.push_str(&text[..head_end]);
    s.push_str(WINDOW_JOIN);
    s.push_str(&text[tail_start..]);
    (s.into(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_untouched() {
        let (w, cut) = head_tail_window("宽带坏了");
        assert_eq!((w.as_ref(), cut), ("宽带坏了", false));
    }

    #[test]
    fn long_text_keeps_head_and_tail() {
        let text = format!("开头{}结尾", "投".repeat(MAX_TEXT_CHARS));
        let (w, cut) = head_tail_window(&text);
        assert!(cut);
        assert!(w.starts_with("开头") && w.ends_with("结尾"));
        assert_eq!(
            w.chars().count(),
            MAX_TEXT_CHARS + WINDOW_JOIN.chars().count()
        );
    }
}
