//! What an analyst's export selects: every case a search matches (its query, filters and time
//! range), as the caller may see them, oldest received first. The rows are read from the store
//! as they are written, a page at a time.

use std::sync::Arc;

use super::Views;
use crate::domain::Case;
use crate::error::{Error, Result};
use crate::handling::Actor;
use crate::index::{Matches, SearchRequest};
use crate::service::tools::{CaseSource, ExportFormat, MAX_XLSX_ROWS};
use crate::store::CaseStore;

/// How many cases one export over the API may select (`[limits]` of the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportLimits {
    /// As CSV. CSV is written as it is read, so memory is not what bounds it: the case
    /// numbers (8 bytes each) are held for the whole download, and a million rows (some
    /// 500 MB) are already more than a spreadsheet opens. `tousu export` writes every case.
    pub csv_rows: u64,
    /// As xlsx, which is built in memory before it is sent.
    pub xlsx_rows: u64,
}

impl Default for ExportLimits {
    fn default() -> Self {
        ExportLimits {
            csv_rows: 1_000_000,
            xlsx_rows: MAX_XLSX_ROWS,
        }
    }
}

/// Cases read from the store per step.
const PAGE: usize = 500;

/// The cases an export writes.
pub struct Selection {
    store: Arc<dyn CaseStore>,
    matches: Matches,
    actor: Actor,
}

impl Views {
    /// The cases `req` matches as `actor` sees them (a handler or supervisor: their
    /// departments' only), for an export as `format`. More than `limits` allow the format is
    /// refused, saying how many matched and the most allowed. Blocking.
    pub fn select_as(
        &self,
        req: &SearchRequest,
        actor: &Actor,
        format: ExportFormat,
        limits: ExportLimits,
    ) -> Result<Selection> {
        let max = match format {
            ExportFormat::Xlsx => limits.xlsx_rows.min(limits.csv_rows),
            _ => limits.csv_rows,
        };
        let req = self.narrowed(req, actor)?;
        let matches = self
            .shared
            .index
            .matches(&req, usize::try_from(max).unwrap_or(usize::MAX))?;
        if !matches.is_listed() {
            let n = matches.total();
            return Err(Error::Invalid(match format {
                ExportFormat::Xlsx => format!(
                    "the filters match {n} cases, more than an xlsx export holds ({max}): narrow the filters, or ask for format=csv (up to {} cases)",
                    limits.csv_rows
                ),
                _ => format!(
                    "the filters match {n} cases, more than an export over the API takes ({max}): narrow the filters, or run `tousu export` on the server"
                ),
            }));
        }
        Ok(Selection {
            store: Arc::clone(&self.shared.store),
            matches,
            actor: actor.clone(),
        })
    }
}

impl Selection {
    /// Cases matched.
    pub fn len(&self) -> usize {
        self.matches.total()
    }

    /// Whether nothing matched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CaseSource for Selection {
    fn count(&self) -> Result<u64> {
        Ok(self.len() as u64)
    }

    /// The cases as the store holds them now. A case the index still shows in one of the
    /// actor's departments but that has moved out of them since is left out; one deleted
    /// from the store is skipped.
    fn for_each(&self, f: &mut dyn FnMut(&Case) -> Result<()>) -> Result<()> {
        for ids in self.matches.pages(PAGE) {
            for case in self.store.get_many(&ids)? {
                if self.actor.works_on(case.department.as_deref()) {
                    f(&case)?;
                }
            }
        }
        Ok(())
    }
}
