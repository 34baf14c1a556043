//! `GET /v1/search`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::filters::{Filtered, RouteParams, invalid};
use super::json::{Above, int_param};
use super::{AppState, blocking};
use crate::error::cut;
use crate::index::{SearchRequest, Sort};
use crate::service::SearchPage;

/// The search's own parameters, beside the [`CaseFilters`](super::filters::CaseFilters).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// `relevance` (default), `newest` or `oldest`.
    #[serde(default)]
    sort: Option<String>,
    /// Hits per page (at least 1, at most 100 are given; default 20).
    #[serde(default)]
    limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    #[serde(default)]
    cursor: Option<String>,
    /// `false` to skip facet counts.
    #[serde(default)]
    facets: Option<bool>,
}

impl RouteParams for PageParams {
    const NAMES: &'static [&'static str] = &["sort", "limit", "cursor", "facets"];
}

impl PageParams {
    /// `req` with this page's order, size, start and facets.
    fn apply(self, mut req: SearchRequest) -> Result<SearchRequest, ApiError> {
        req.sort = match self.sort.as_deref() {
            None | Some("relevance") => Sort::Relevance,
            Some("newest") => Sort::Newest,
            Some("oldest") => Sort::Oldest,
            Some(other) => {
                return Err(invalid(format!(
                    "sort={:?}: use relevance, newest or oldest",
                    cut(other)
                )));
            }
        };
        req.offset = match self.cursor.as_deref() {
            None | Some("") => 0,
            Some(c) => c.parse().map_err(|_| {
                invalid(format!("cursor={:?} is not a cursor this API gave", cut(c)))
            })?,
        };
        req.limit = int_param("limit", self.limit, 20, (1, 100), Above::Clamp)? as usize;
        req.facets = self.facets.unwrap_or(true);
        Ok(req)
    }
}

/// `GET /v1/search`.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Filtered(filters, page): Filtered<PageParams>,
) -> Result<Json<SearchPage>, ApiError> {
    caller.require(Permission::Read)?;
    let req = page.apply(filters.request()?)?;
    let s = state.clone();
    let page = blocking(move || Ok(s.service.views().search_as(&req, &caller.actor())?)).await?;
    Ok(Json(page))
}
