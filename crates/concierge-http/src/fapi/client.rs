//! `GET /v1/client`: the browser's client. It must answer 200 even before the browser has one
//! (wire §6.2): `{"response": null, "client": null}`.

use super::transport::{envelope, FapiInstance};
use axum::response::Response;
use serde_json::Value;

/// `GET /v1/client`. Browser clients come into being at the first sign-in or sign-up; until
/// then (and for an unknown `__client` cookie) there is no client.
pub async fn get_client(FapiInstance(_instance): FapiInstance) -> Response {
    envelope(Value::Null, None)
}
