//! The error envelope shared by both APIs (wire §7).

use serde::{Deserialize, Serialize};

/// `{ "errors": [...], "meta": {}, "clerk_trace_id": "…" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// One or more errors; the SDKs read the first.
    pub errors: Vec<ErrorItem>,
    /// Envelope-level metadata; always an object.
    pub meta: serde_json::Map<String, serde_json::Value>,
    /// The request's trace id, for correlating with server logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clerk_trace_id: Option<String>,
}

/// One error: a machine code, a short message and a sentence for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorItem {
    /// Stable code the SDKs branch on (`form_identifier_exists`, …).
    pub code: String,
    /// Short message.
    pub message: String,
    /// A full sentence shown by the UI components.
    pub long_message: String,
    /// Details such as the offending parameter.
    pub meta: ErrorMeta,
}

/// Error details; `param_name` places the message under a form field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorMeta {
    /// The form field the error belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_name: Option<String>,
    /// The session concerned (`session_exists`, `identifier_already_signed_in`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}
