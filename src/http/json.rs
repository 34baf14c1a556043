//! JSON bodies and query strings whose rejections answer in the API's error format (an
//! unknown field is named, so the caller knows what to fix). A body is a JSON object: an
//! array or a bare value is refused, whatever fields the array's items would fill.

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::error::ApiError;

/// A JSON object body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            let status = r.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    "body_too_large",
                    "the body is larger than this endpoint takes; see the limits in /v1/openapi.json",
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", r.body_text())
            }
        })?;
        let Object(v) = serde_json::from_slice::<Object<T>>(&bytes).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_json",
                format!("the body is not the JSON object expected: {e}"),
            )
        })?;
        Ok(Body(v))
    }
}

/// Whether the request says its body is JSON (`application/json`, or `application/*+json`).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A value that deserialises only from a JSON object (a struct's derived `Deserialize` would
/// also take an array of its fields in order).
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OnlyMaps<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OnlyMaps<T> {
            type Value = T;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(OnlyMaps(PhantomData)).map(Object)
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

/// What an integer query parameter above its maximum means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Above {
    /// Taken as the maximum (a count of things to return: asking for more gets all there are).
    Clamp,
    /// Refused, like a value below the minimum.
    Refuse,
}

/// An integer query parameter: `default` when absent; below `min` refused with 422
/// `invalid_query` naming it (never silently raised); above `max` as `above` says.
pub fn int_param(
    name: &str,
    value: Option<i64>,
    default: i64,
    (min, max): (i64, i64),
    above: Above,
) -> Result<i64, ApiError> {
    let v = value.unwrap_or(default);
    if v < min || (v > max && above == Above::Refuse) {
        let range = match above {
            Above::Clamp => format!("at least {min} (more than {max} is taken as {max})"),
            Above::Refuse => format!("{min} to {max}"),
        };
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            format!("`{name}` must be {range}, not {v}"),
        ));
    }
    Ok(v.min(max))
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
                .map_err(|_| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        "no case at this path; case numbers look like TS20261122-000123",
                    )
                })?;
        Ok(CaseNumber(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Two {
        a: String,
        #[serde(default)]
        b: Option<u8>,
    }

    #[test]
    fn only_objects_are_taken() {
        let Object(v) = serde_json::from_str::<Object<Two>>(r#"{"a":"x","b":1}"#).unwrap();
        assert_eq!(
            v,
            Two {
                a: "x".into(),
                b: Some(1)
            }
        );
        let e = serde_json::from_str::<Object<Two>>(r#"["x",1]"#)
            .err()
            .unwrap();
        assert!(e.to_string().contains("expected a JSON object"), "{e}");
        let e = serde_json::from_str::<Object<Two>>(r#"{"a":"x","c":1}"#)
            .err()
            .unwrap();
        assert!(e.to_string().contains("unknown field `c`"), "{e}");
        assert!(serde_json::from_str::<Vec<Object<Two>>>(r#"[["x"]]"#).is_err());
    }

    #[test]
    fn integer_parameters_are_refused_below_and_clamped_or_refused_above() {
        assert_eq!(
            int_param("top", None, 10, (1, 200), Above::Clamp).unwrap(),
            10
        );
        assert_eq!(
            int_param("top", Some(5000), 10, (1, 200), Above::Clamp).unwrap(),
            200
        );
        for bad in [0, -3] {
            let e = int_param("top", Some(bad), 10, (1, 200), Above::Clamp).unwrap_err();
            assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let m = e.to_json()["message"].as_str().unwrap().to_string();
            assert!(m.contains("`top`") && m.contains(&bad.to_string()), "{m}");
        }
        let e = int_param("window_hours", Some(9000), 168, (1, 8784), Above::Refuse).unwrap_err();
        assert!(
            e.to_json()["message"]
                .as_str()
                .unwrap()
                .contains("1 to 8784")
        );
    }
}
