//! Every error the API answers with, mapped in one place: JSON `{code, message}` with a
//! stable snake_case code.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u32>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 401: no key, or an unknown one.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a valid API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`",
        )
    }

    /// 403: the key's role may not do this.
    pub fn forbidden(role: &str, needs: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this key's role `{role}` may not do this; it needs the `{needs}` role"),
        )
    }

    /// 503 with `Retry-After`: saturated.
    pub fn overloaded(message: impl Into<String>) -> Self {
        ApiError {
            retry_after: Some(1),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", message)
        }
    }

    /// 503: the request took longer than the configured timeout. A create that timed out
    /// may still commit (its work is not abandoned half-way), so `creates` says how to retry
    /// without making a second case.
    pub fn timeout(secs: u64, creates: bool) -> Self {
        let mut message = format!("the request took longer than {secs} s");
        if creates {
            message.push_str(
                "; the case may still be stored: retry with the same Idempotency-Key to get it \
                 instead of a second case",
            );
        }
        ApiError {
            retry_after: Some(1),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", message)
        }
    }

    /// 404 for a route that does not exist.
    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "no_such_route",
            "no such endpoint; see /v1/openapi.json",
        )
    }

    /// 405 for a route that exists but does not take the request's method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not take this method; see /v1/openapi.json",
        )
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `{code, message}` body.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "code": self.code, "message": self.message })
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        let (status, code) = match &e {
            Error::EmptyText => (S::UNPROCESSABLE_ENTITY, "empty_text"),
            Error::UnknownLabel { .. } => (S::UNPROCESSABLE_ENTITY, "unknown_label"),
            Error::Invalid(_) | Error::BadLine { .. } => {
                (S::UNPROCESSABLE_ENTITY, "invalid_request")
            }
            Error::NotFound(_) => (S::NOT_FOUND, "not_found"),
            Error::Conflict(_) => (S::CONFLICT, "conflict"),
            Error::IdempotencyMismatch(_) => (S::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
            Error::BadFile { .. }
            | Error::Io { .. }
            | Error::Model(_)
            | Error::Store(_)
            | Error::Index(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status == S::INTERNAL_SERVER_ERROR {
            // The details are for the operator's log, not for the caller.
            tracing::error!(error = %e, "internal error");
            return Self::new(
                status,
                code,
                "internal error; the operator's log has the details",
            );
        }
        Self::new(status, code, e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "invalid_json",
        };
        let message = match &r {
            JsonRejection::JsonDataError(e) => e.body_text(),
            JsonRejection::MissingJsonContentType(_) => {
                "send the body as JSON with `Content-Type: application/json`".to_string()
            }
            _ => r.body_text(),
        };
        let status =
            if status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                status
            };
        Self::new(status, code, message)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            r.body_text(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(Body {
                code: self.code,
                message: &self.message,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
