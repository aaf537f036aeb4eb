//! Extractors and the JSON response whose failures and content types are Clerk's (STYLE §2.3):
//! rejections are envelopes, never axum's plain-text defaults, and JSON answers carry exactly
//! `Content-Type: application/json` (wire §8.1: any parameter breaks the SDK's parser).

use super::error::ApiError;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{header, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Largest JSON body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Serialises `value` as a JSON response with the exact content type the SDKs require.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "response serialisation failed");
            let mut response = Response::new(Body::from(
                r#"{"errors":[{"code":"internal_clerk_error","message":"Oops, an unexpected error occurred","long_message":"There was an internal error on our servers.","meta":{}}],"meta":{}}"#,
            ));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
    }
}

/// A JSON body in, or a JSON answer out.
///
/// As an extractor: an empty body reads as `{}` (the SDKs send `Content-Type: application/json`
/// with no body on many POSTs), malformed JSON is a 400 envelope, and a field of the wrong
/// type is a 422 `form_param_format_invalid` naming the field.
#[derive(Debug, Clone)]
pub struct ClerkJson<T>(pub T);

impl<T: Serialize> IntoResponse for ClerkJson<T> {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, &self.0)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ClerkJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(request.into_body(), BODY_LIMIT)
            .await
            .map_err(|_| ApiError::body_too_large(BODY_LIMIT))?;
        parse_json(&bytes).map(ClerkJson)
    }
}

/// Parses a JSON request body with Clerk-shaped errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::malformed_body(&e.to_string()))?;
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let field = path.split(['.', '[']).next().unwrap_or_default().to_owned();
        if field.is_empty() || field == "?" {
            ApiError::malformed_body(&err.inner().to_string())
        } else {
            ApiError::format_invalid(&field)
        }
    })
}

/// Query parameters as an ordered list of pairs, so repeated keys (`user_id=a&user_id=b`, the
/// SDKs' array encoding, wire §8.1) and bracketed keys (`user_id[]=a`) both work.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Parses a raw query string.
    pub fn parse(raw: &str) -> Self {
        Self(
            url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| {
                    let key = k.strip_suffix("[]").unwrap_or(&k).to_owned();
                    (key, v.into_owned())
                })
                .collect(),
        )
    }

    /// The last value of `key`, if present and non-empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Whether `key` was given at all, even with an empty value.
    pub fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// Every non-empty value of `key`, in order (comma-separated values are split too).
    pub fn get_all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            })
            .collect()
    }

    /// An integer parameter; a non-integer is a 422 naming it.
    pub fn get_i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .map(|v| v.parse::<i64>().map_err(|_| ApiError::format_invalid(key)))
            .transpose()
    }

    /// A boolean parameter (`true`/`false`); anything else is a 422 naming it.
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some("true") | Some("1") => Ok(Some(true)),
            Some("false") | Some("0") => Ok(Some(false)),
            Some(_) => Err(ApiError::format_invalid(key)),
        }
    }

    /// `limit` (default 10, 1..=500) and `offset` (default 0, ≥ 0), as Clerk bounds them.
    pub fn pagination(&self) -> Result<(i64, i64), ApiError> {
        let limit = self.get_i64("limit")?.unwrap_or(10);
        let offset = self.get_i64("offset")?.unwrap_or(0);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::format_invalid("limit"));
        }
        if offset < 0 {
            return Err(ApiError::format_invalid("offset"));
        }
        Ok((limit, offset))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query().unwrap_or_default()))
    }
}

/// Deserialises an optional field that distinguishes "absent" (`None`) from `null` (`Some(None)`).
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_bracketed_keys() {
        let q = QueryParams::parse("user_id=a&user_id=b&email_address[]=c&limit=5&empty=");
        assert_eq!(q.get_all("user_id"), vec!["a", "b"]);
        assert_eq!(q.get_all("email_address"), vec!["c"]);
        assert_eq!(q.get_i64("limit").unwrap(), Some(5));
        assert_eq!(q.get("empty"), None);
        assert!(QueryParams::parse("limit=x").get_i64("limit").is_err());
    }

    #[test]
    fn json_errors_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            first_name: Option<String>,
        }
        let err = parse_json::<Body>(br#"{"first_name": 5}"#).unwrap_err();
        assert_eq!(err.code, "form_param_format_invalid");
        assert_eq!(err.param_name.as_deref(), Some("first_name"));
        let err = parse_json::<Body>(b"{nope").unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(parse_json::<Body>(b"").is_ok());
    }
}
