//! The case filters that `GET /v1/search` and `GET /v1/export` share — `q`, `category`,
//! `grade`, `status`, `channel`, `department`, `assignee`, `linked`, `overdue`, `topic`,
//! `from`, `to` — read and checked by one piece of
//! code, so that what a search finds and what an export writes never drift apart. A query
//! string is split into the filters and the route's own parameters ([`Filtered`]); a
//! parameter that is neither is refused, naming what the route takes.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use jiff::Timestamp;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::{Channel, Grade, Status, api_time};
use crate::error::cut;
use crate::index::SearchRequest;

/// The values of `linked`.
const LINKS: [&str; 3] = ["repeat", "duplicate", "group"];

/// Longest query, in characters.
const MAX_QUERY_CHARS: usize = 1000;

/// The filters. Each list takes comma-separated values (any of them matches).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFilters {
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
    /// Handler names.
    #[serde(default)]
    assignee: Option<String>,
    /// Links the case has: `repeat`, `duplicate`, `group`.
    #[serde(default)]
    linked: Option<String>,
    /// Only cases with a breached deadline now.
    #[serde(default)]
    overdue: Option<bool>,
    /// Only the cases of this hot topic (an id from `/v1/topics`).
    #[serde(default)]
    topic: Option<String>,
    /// Received at or after (RFC 3339).
    #[serde(default, deserialize_with = "api_time::deserialize")]
    from: Option<Timestamp>,
    /// Received before (RFC 3339).
    #[serde(default, deserialize_with = "api_time::deserialize")]
    to: Option<Timestamp>,
}

impl CaseFilters {
    /// The parameters' names.
    const NAMES: [&'static str; 12] = [
        "q",
        "category",
        "grade",
        "status",
        "channel",
        "department",
        "assignee",
        "linked",
        "overdue",
        "topic",
        "from",
        "to",
    ];

    /// A search request with these filters, and defaults for the rest (20 hits by relevance
    /// from the first, with facets).
    pub fn request(self) -> Result<SearchRequest, ApiError> {
        let mut filters = Vec::new();
        for (name, value) in [
            ("category", self.category),
            ("grade", self.grade),
            ("status", self.status),
            ("channel", self.channel),
            ("department", self.department),
            ("assignee", self.assignee),
            ("linked", self.linked),
        ] {
            for v in value.iter().flat_map(|v| v.split(',')) {
                // Codes with a fixed list are checked as sent (an empty one too): a typo would
                // otherwise match nothing, silently. Free text is trimmed, and empty is no
                // filter.
                let known = match name {
                    "grade" => Grade::ALL.iter().any(|g| g.label() == v),
                    "status" => Status::from_code(v).is_some(),
                    "channel" => Channel::from_code(v).is_some(),
                    "linked" => LINKS.contains(&v),
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
                        "{name}={:?} is not a {name}: use {}",
                        cut(v),
                        match name {
                            "grade" => "一般, 严重 or 重大".to_string(),
                            "status" => codes(Status::ALL.map(Status::code)),
                            "linked" => codes(LINKS),
                            _ => codes(Channel::ALL.map(Channel::code)),
                        }
                    )));
                }
                filters.push((name.to_string(), v.to_string()));
            }
        }
        if self.q.chars().count() > MAX_QUERY_CHARS {
            return Err(invalid(format!(
                "q is longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        let topic = self.topic.map(|t| t.trim().to_string());
        if topic.as_deref() == Some("") {
            return Err(invalid(
                "topic is empty: give a topic id from GET /v1/topics, or leave it out".into(),
            ));
        }
        Ok(SearchRequest {
            query: self.q,
            filters,
            from: self.from,
            to: self.to,
            limit: 20,
            facets: true,
            overdue: self.overdue.unwrap_or(false),
            topic,
            ..SearchRequest::default()
        })
    }
}

/// 422 `invalid_query` with `message`.
pub fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", message)
}

/// `a, b or c`.
pub fn codes<const N: usize>(codes: [&str; N]) -> String {
    match codes.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => codes.join(""),
    }
}

/// A route's own query parameters, besides the [`CaseFilters`].
pub trait RouteParams: DeserializeOwned {
    /// Their names.
    const NAMES: &'static [&'static str];
}

/// A query string of case filters and a route's own parameters.
pub struct Filtered<T>(pub CaseFilters, pub T);

impl<S: Send + Sync, T: RouteParams> FromRequestParts<S> for Filtered<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)?;
        let (mut filters, mut own) = (Vec::new(), Vec::new());
        for (name, value) in pairs {
            if CaseFilters::NAMES.contains(&name.as_str()) {
                filters.push((name, value));
            } else if T::NAMES.contains(&name.as_str()) {
                own.push((name, value));
            } else {
                return Err(invalid(format!(
                    "unknown parameter `{name}`: this endpoint takes {}",
                    codes_of(CaseFilters::NAMES.iter().chain(T::NAMES))
                )));
            }
        }
        Ok(Filtered(parse(&filters)?, parse(&own)?))
    }
}

/// `a, b, c` in backquotes.
fn codes_of<'a>(names: impl Iterator<Item = &'a &'a str>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `pairs` read as `T`, with the same checks and messages as any query string of the API.
fn parse<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, ApiError> {
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    let uri: Uri = format!("/?{}", query.join("&"))
        .parse()
        .map_err(|_| invalid("the query string is too long".into()))?;
    let Query(v) = Query::<T>::try_from_uri(&uri)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_name_is_a_field() {
        let query: Vec<(String, String)> = CaseFilters::NAMES
            .iter()
            .map(|n| {
                let v = if ["from", "to"].contains(n) {
                    "2026-01-01T00:00:00+08:00"
                } else if *n == "overdue" {
                    "true"
                } else {
                    "x"
                };
                (n.to_string(), v.to_string())
            })
            .collect();
        let f: CaseFilters = parse(&query).unwrap();
        assert_eq!(f.q, "x");
        assert!(f.from.is_some() && f.to.is_some() && f.department.is_some());
    }
}
