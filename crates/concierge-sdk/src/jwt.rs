//! Compact JWT decoding without verification (wire §2.3 step 1): three dot-separated parts,
//! lenient base64url, JSON objects. Verification lives in `verify`; this module only splits.
//!
//! ```
//! use concierge_sdk::{jwt, verify};
//!
//! // A session token as it arrives in `Authorization: Bearer …` (with a dummy signature).
//! let token = concat!(
//!     "eyJhbGciOiJSUzI1NiIsImNhdCI6ImNsX0I3ZDRQRDExMUFBQSIsImtpZCI6Imluc18ybVE1eVcwdlRzN1JrUHExTG5YYzRaYko4ZkQiLCJ0eXAiOiJKV1QifQ",
//!     ".eyJhenAiOiJodHRwczovL2FwcC5leGFtcGxlLnRlc3QiLCJleHAiOjE3NjAwMDAwNjAsImlhdCI6MTc2MDAwMDAwMCwiaXNzIjoiaHR0cHM6Ly9jbGVyay5leGFtcGxlLnRlc3QiLCJuYmYiOjE3NTk5OTk5OTAsInNpZCI6InNlc3NfMm1RN2JYSmNSNFBuVzF6Szh1WWZUZEUzYUxzIiwic3ViIjoidXNlcl8ybVE2elIxeEtmOFdjTnZCM2hKcExzVDBxWWUiLCJ2IjoyfQ",
//!     ".c2ln",
//! );
//! let decoded = jwt::decode(token)?;
//! // The header says which key and which rules apply...
//! assert_eq!(decoded.header_str("kid"), Some("ins_2mQ5yW0vTs7RkPq1LnXc4ZbJ8fD"));
//! assert_eq!(decoded.header_str("cat"), Some(verify::SESSION_TOKEN_CATEGORY));
//! // ...and the claims are readable, but nothing is trusted until `verify` (or
//! // `Clerk::verify_token`) has checked the signature: this one would fail.
//! assert_eq!(decoded.claim_str("sub"), Some("user_2mQ6zR1xKf8WcNvB3hJpLsT0qYe"));
//! assert_eq!(decoded.claims()["exp"], 1_760_000_060);
//!
//! assert_eq!(jwt::decode("Bearer abc").unwrap_err().reason(), "token-invalid");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::payload::{Header, LazyObject, Payload};
use crate::VerifyError;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde_json::{Map, Value};

/// Base64url that accepts both padded and unpadded input, as `@clerk/backend` does.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A JWT split into its parts. Nothing about it has been checked except that it parses.
///
/// The header and the payload are parsed once, typed, for the members the SDK reads; their
/// maps ([`header`](Self::header), [`claims`](Self::claims)) are built on first use.
///
/// ```
/// let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2ln";
/// let jwt = concierge_sdk::jwt::decode(token).unwrap();
/// assert_eq!(jwt.header()["alg"], "RS256");
/// assert_eq!(jwt.claims()["sub"], "user_1");
/// ```
#[derive(Debug, Clone)]
pub struct DecodedJwt {
    pub(crate) header: Header,
    header_object: LazyObject,
    pub(crate) payload: Payload,
    pub(crate) payload_object: LazyObject,
    /// The compact token; its signing input is the part before the last `.`.
    pub(crate) token: String,
    pub(crate) signing_input_len: usize,
    pub(crate) signature: Vec<u8>,
}

impl DecodedJwt {
    /// The JOSE header.
    ///
    /// ```
    /// let jwt = concierge_sdk::jwt::decode("eyJhbGciOiJSUzI1NiIsIng1dCI6IjEyMyJ9.e30.c2ln").unwrap();
    /// assert_eq!(jwt.header()["x5t"], "123");
    /// ```
    pub fn header(&self) -> &Map<String, Value> {
        self.header_object.map()
    }

    /// The payload.
    ///
    /// ```
    /// let jwt = concierge_sdk::jwt::decode("eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjEsInRoZW1lIjoiZGFyayJ9.c2ln").unwrap();
    /// assert_eq!(jwt.claims()["exp"], 1);
    /// assert_eq!(jwt.claims()["theme"], "dark");
    /// ```
    pub fn claims(&self) -> &Map<String, Value> {
        self.payload_object.map()
    }

    /// A string header field (`alg`, `kid`, `typ`, `cat`, or any other).
    ///
    /// ```
    /// let jwt = concierge_sdk::jwt::decode("eyJhbGciOiJSUzI1NiIsImtpZCI6Imluc18xIn0.e30.c2ln").unwrap();
    /// assert_eq!(jwt.header_str("kid"), Some("ins_1"));
    /// assert_eq!(jwt.header_str("typ"), None);
    /// ```
    pub fn header_str(&self, name: &str) -> Option<&str> {
        let header = &self.header;
        match name {
            "alg" => header.alg.as_str(),
            "kid" => header.kid.as_str(),
            "typ" => header.typ.as_str(),
            "cat" => header.cat.as_str(),
            _ => self.header().get(name).and_then(Value::as_str),
        }
    }

    /// A string claim.
    ///
    /// ```
    /// let jwt = concierge_sdk::jwt::decode("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEiLCJleHAiOjF9.c2ln").unwrap();
    /// assert_eq!(jwt.claim_str("sub"), Some("user_1"));
    /// assert_eq!(jwt.claim_str("exp"), None, "not a string");
    /// ```
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        let p = &self.payload;
        match name {
            "sub" => p.sub.as_str(),
            "iss" => p.iss.as_str(),
            "azp" => p.azp.as_str(),
            "sid" => p.sid.as_str(),
            "sts" => p.sts.as_str(),
            _ => self.claims().get(name).and_then(Value::as_str),
        }
    }

    /// `<header>.<payload>` as sent: what the signature covers.
    pub(crate) fn signing_input(&self) -> &str {
        &self.token[..self.signing_input_len]
    }
}

/// One part's JSON object: its typed members and its text for the map built on demand.
fn decode_object<T: serde::de::DeserializeOwned>(
    part: &str,
    what: &str,
) -> Result<(T, LazyObject), VerifyError> {
    let bytes = LENIENT
        .decode(part)
        .map_err(|_| VerifyError::Malformed(format!("the {what} is not base64url")))?;
    let not_object = || VerifyError::Malformed(format!("the {what} is not a JSON object"));
    let json = String::from_utf8(bytes).map_err(|_| not_object())?;
    let typed = serde_json::from_str(&json).map_err(|_| not_object())?;
    Ok((typed, LazyObject::from_checked_json(json)))
}

/// Splits and decodes a compact JWT without verifying anything.
///
/// ```
/// use concierge_sdk::jwt::decode;
///
/// assert!(decode("eyJhbGciOiJSUzI1NiJ9.e30.c2ln").is_ok());
/// assert_eq!(decode("only.two").unwrap_err().reason(), "token-invalid");
/// ```
pub fn decode(token: &str) -> Result<DecodedJwt, VerifyError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed(
            "a JWT has three dot-separated parts".into(),
        ));
    };
    let signing_input_len = header.len() + 1 + payload.len();
    let (header, header_object) = decode_object(header, "header")?;
    let (payload, payload_object) = decode_object(payload, "payload")?;
    Ok(DecodedJwt {
        header,
        header_object,
        payload,
        payload_object,
        signing_input_len,
        signature: LENIENT
            .decode(signature)
            .map_err(|_| VerifyError::Malformed("the signature is not base64url".into()))?,
        token: token.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_padded_and_unpadded_parts() {
        let jwt = decode("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ==.c2ln").unwrap();
        assert_eq!(jwt.header_str("alg"), Some("RS256"));
        assert_eq!(jwt.claim_str("sub"), Some("user_1"));
        assert_eq!(jwt.signature, b"sig");
        assert_eq!(
            jwt.signing_input(),
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ=="
        );
    }

    #[test]
    fn refuses_malformed_tokens() {
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.eyJ9.c2ln",
            "WzFd.eyJzdWIiOiJ4In0.c2ln", // header is an array
            "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln",
        ] {
            let err = decode(bad).unwrap_err();
            assert_eq!(err.reason(), "token-invalid", "{bad}");
        }
    }
}
