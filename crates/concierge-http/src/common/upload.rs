//! Image uploads, as clerk-js and the Backend API SDKs send them: `multipart/form-data` with a
//! `file` part (plus text fields such as `uploader_user_id`), or the raw image as the body.

use super::ApiError;
use axum::extract::{FromRequest, Multipart, Request};
use std::collections::HashMap;

/// The uploaded file and the text fields sent beside it.
pub struct Upload {
    /// The bytes of the `file` part (or of the whole body).
    pub file: Vec<u8>,
    /// Other multipart fields, by name (the last value wins).
    pub fields: HashMap<String, String>,
}

/// Reads an upload; a multipart body without a `file` part is `form_param_missing`.
pub async fn read_upload(request: Request) -> Result<Upload, ApiError> {
    let is_multipart = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let file = axum::body::Bytes::from_request(request, &())
            .await
            .map_err(|_| ApiError::body_too_large(concierge_core::MAX_IMAGE_BYTES))?
            .to_vec();
        return Ok(Upload {
            file,
            fields: HashMap::new(),
        });
    }
    let unreadable = |_| ApiError::malformed_body("the multipart body could not be read");
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|_| ApiError::malformed_body("the multipart body could not be read"))?;
    let mut file = None;
    let mut fields = HashMap::new();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            file = Some(field.bytes().await.map_err(unreadable)?.to_vec());
        } else {
            fields.insert(name, field.text().await.map_err(unreadable)?);
        }
    }
    let file = file.ok_or_else(|| ApiError::param_missing("file"))?;
    Ok(Upload { file, fields })
}
