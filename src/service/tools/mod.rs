//! Offline tools over the store: export (JSONL, CSV, corrections for retraining) and the
//! evaluation of resolution suggestions on history.

mod export;
mod suggest_eval;

pub use self::export::{ExportFormat, export};
pub use self::suggest_eval::{
    ResolvedRow, SuggestionEval, SuggestionScores, char_f1, evaluate_suggestions, read_history,
    write_history,
};
