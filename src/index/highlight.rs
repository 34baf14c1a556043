//! Highlighting a hit's text: the query's words in `<em>…</em>` around their first match.

use tantivy::snippet::SnippetGenerator;

use super::search::SNIPPET_BYTES;

/// Highlights the query's words in a hit's text. The index keeps no texts (the store has
/// them, and kept twice they were a tenth of a case's bytes on disk), so the caller hands each
/// hit's text in once it has loaded the case.
pub struct Highlighter {
    pub(super) generator: SnippetGenerator,
    pub(super) terms: Vec<String>,
}

impl std::fmt::Debug for Highlighter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Highlighter")
            .field("terms", &self.terms)
            .finish()
    }
}

impl Highlighter {
    /// The best fragment of `text`, HTML-escaped, the query's words in `<em>…</em>`; the
    /// text's start when none of them occurs.
    pub fn snippet(&self, text: &str) -> String {
        // Only the neighbourhood of the first match is segmented again: snippets of long
        // texts would otherwise dominate search time.
        let mut snippet = self.generator.snippet(snippet_window(text, &self.terms));
        snippet.set_snippet_prefix_postfix("<em>", "</em>");
        if snippet.is_empty() {
            html_escape(&text.chars().take(SNIPPET_BYTES / 3).collect::<String>())
        } else {
            snippet.to_html()
        }
    }
}

/// The part of `text` around the first occurrence of any of `terms`: about 40 characters
/// before it and 200 after (the whole text when short or when no term occurs verbatim).
fn snippet_window<'a>(text: &'a str, terms: &[String]) -> &'a str {
    const BEFORE: usize = 40 * 3;
    const AFTER: usize = 200 * 3;
    if text.len() <= BEFORE + AFTER {
        return text;
    }
    let Some(first) = terms.iter().filter_map(|t| text.find(t.as_str())).min() else {
        return text;
    };
    let mut start = first.saturating_sub(BEFORE);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (first + AFTER).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    &text[start..end]
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
