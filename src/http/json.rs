//! JSON bodies and query strings whose rejections answer in the API's error format (an
//! unknown field is named, so the caller knows what to fix).

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(v) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Body(v))
    }
}

/// A query string.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(v) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Params(v))
    }
}

/// The `{id}` of a case path; a path that cannot be read (not UTF-8) is 404 `not_found` in
/// the API's error format, not axum's plain-text 400.
pub struct CaseNumber(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CaseNumber {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(id) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| {
                    ApiError::new(
                        axum::http::StatusCode::NOT_FOUND,
                        "not_found",
                        format!(
                            "no case at this path ({}); case numbers look like TS20261122-000123",
                            e.body_text()
                        ),
                    )
                })?;
        Ok(CaseNumber(id))
    }
}
