//! `GET /v1/search`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Deserialize;

use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::json::{Above, Params, int_param};
use super::{AppState, blocking};
use crate::domain::{Channel, Grade, Status, api_time};
use crate::error::cut;
use crate::index::{SearchRequest, Sort};
use crate::service::SearchPage;

/// The query string. Filters take comma-separated values (any of them matches).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The query: words (ANDed), `"phrases"`, `OR`, `NOT` / `-word`.
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    grade: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    department: Option<String>,
    /// Received at or after (RFC 3339).
    #[serde(default, deserialize_with = "api_time::deserialize")]
    from: Option<Timestamp>,
    /// Received before (RFC 3339).
    #[serde(default, deserialize_with = "api_time::deserialize")]
    to: Option<Timestamp>,
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

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", message)
}

/// `a, b or c`.
fn codes<const N: usize>(codes: [&str; N]) -> String {
    match codes.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => codes.join(""),
    }
}

impl SearchParams {
    fn request(self) -> Result<SearchRequest, ApiError> {
        let sort = match self.sort.as_deref() {
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
        let offset = match self.cursor.as_deref() {
            None | Some("") => 0,
            Some(c) => c.parse().map_err(|_| {
                invalid(format!("cursor={:?} is not a cursor this API gave", cut(c)))
            })?,
        };
        let mut filters = Vec::new();
        for (name, value) in [
            ("category", self.category),
            ("grade", self.grade),
            ("status", self.status),
            ("channel", self.channel),
            ("department", self.department),
        ] {
            for v in value.iter().flat_map(|v| v.split(',')) {
                // Codes with a fixed list are checked as sent (an empty one too): a typo would
                // otherwise match nothing, silently. Free text is trimmed, and empty is no
                // filter.
                let known = match name {
                    "grade" => Grade::ALL.iter().any(|g| g.label() == v),
                    "status" => Status::from_code(v).is_some(),
                    "channel" => Channel::from_code(v).is_some(),
                    _ => {
                        let v = v.trim();
                        if !v.is_empty() {
                            filters.push((name.to_string(), v.to_string()));
                        }
                        continue;
                    }
                };
                if !known {
                    return Err(invalid(format!(
                        "{name}={v:?} is not a {name}: use {}",
                        match name {
                            "grade" => "一般, 严重 or 重大".to_string(),
                            "status" => codes(Status::ALL.map(Status::code)),
                            _ => codes(Channel::ALL.map(Channel::code)),
                        }
                    )));
                }
                filters.push((name.to_string(), v.to_string()));
            }
        }
        if self.q.chars().count() > 1000 {
            return Err(invalid("q is longer than 1000 characters".into()));
        }
        Ok(SearchRequest {
            query: self.q,
            filters,
            from: self.from,
            to: self.to,
            sort,
            limit: int_param("limit", self.limit, 20, (1, 100), Above::Clamp)? as usize,
            offset,
            facets: self.facets.unwrap_or(true),
        })
    }
}

/// `GET /v1/search`.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params<SearchParams>,
) -> Result<Json<SearchPage>, ApiError> {
    caller.require(Permission::Read)?;
    let req = params.request()?;
    let s = state.clone();
    let page = blocking(move || Ok(s.service.views().search_as(&req, &caller.actor())?)).await?;
    Ok(Json(page))
}
