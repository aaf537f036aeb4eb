//! Typed session-token claims (wire §2.2) for both claim versions: v2 (`v: 2`, the compact
//! `o` organization claim with `fea`/`pla`) and v1 (`org_id`, `org_slug`, `org_role`,
//! `org_permissions`). Parsing is lenient like the JS SDK's: a claim of the wrong type is
//! treated as absent, except `sub` and `exp`, which verification requires.

use crate::payload::{LazyObject, Payload};
use serde_json::{Map, Value};
use std::ops::Deref;

/// Every claim of a token as sent, custom ones included: a `serde_json` map, built from the
/// payload the first time it is read (most requests never read it). Clones share it.
///
/// ```
/// use concierge_sdk::SessionClaims;
/// use serde_json::json;
///
/// let raw = json!({"sub": "user_1", "exp": 1760000060, "theme": "dark"});
/// let claims = SessionClaims::from_map(raw.as_object().unwrap().clone()).unwrap();
/// // A map through `Deref`: index it, `get`, iterate.
/// assert_eq!(claims.raw["theme"], "dark");
/// assert_eq!(claims.raw.get("sub").and_then(|v| v.as_str()), Some("user_1"));
/// assert_eq!(claims.raw.len(), 3);
/// ```
#[derive(Clone, PartialEq)]
pub struct RawClaims(LazyObject);

impl Deref for RawClaims {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Map<String, Value> {
        self.0.map()
    }
}

impl std::fmt::Debug for RawClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The v2 `o` claim: the active organization.
///
/// ```
/// use concierge_sdk::SessionClaims;
/// use serde_json::json;
///
/// let raw = json!({"sub": "user_1", "exp": 1760000060, "v": 2, "o": {"id": "org_1", "slg": "acme", "rol": "admin"}});
/// let claims = SessionClaims::from_map(raw.as_object().unwrap().clone()).unwrap();
/// let org = claims.organization.unwrap();
/// assert_eq!((org.slug.as_deref(), org.role.as_deref()), (Some("acme"), Some("admin")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrganizationClaim {
    /// `o.id`: organization id (`org_…`).
    pub id: Option<String>,
    /// `o.slg`: organization slug.
    pub slug: Option<String>,
    /// `o.rol`: role key **without** the `org:` prefix (`admin`).
    pub role: Option<String>,
    /// `o.per`: comma-separated permission actions (`read,manage`).
    pub permissions: Option<String>,
    /// `o.fpm`: comma-separated decimal bitmasks, one per org-scoped feature of `fea`.
    pub feature_permission_map: Option<String>,
}

/// The `act` claim of an impersonated session.
///
/// ```
/// use concierge_sdk::SessionClaims;
/// use serde_json::json;
///
/// let raw = json!({"sub": "user_1", "exp": 1760000060, "act": {"sub": "user_support", "type": "impersonation"}});
/// let claims = SessionClaims::from_map(raw.as_object().unwrap().clone()).unwrap();
/// assert_eq!(claims.actor.unwrap().sub, "user_support");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The impersonator (`user_…`).
    pub sub: String,
    /// Actor type, when given.
    pub actor_type: Option<String>,
}

/// The claims of a session token, typed, with the raw payload kept for custom claims.
///
/// ```
/// use concierge_sdk::SessionClaims;
/// use serde_json::json;
///
/// let raw = json!({"sub": "user_1", "sid": "sess_1", "exp": 1760000060, "v": 2,
///                  "o": {"id": "org_1", "slg": "acme", "rol": "admin"}, "theme": "dark"});
/// let claims = SessionClaims::from_map(raw.as_object().unwrap().clone()).unwrap();
/// assert_eq!(claims.sub, "user_1");
/// assert_eq!(claims.organization.unwrap().role.as_deref(), Some("admin"));
/// assert_eq!(claims.raw["theme"], "dark");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SessionClaims {
    /// `sub`: the user id.
    pub sub: String,
    /// `sid`: the session id.
    pub sid: Option<String>,
    /// `iss`: `https://<frontend-api host>`.
    pub iss: Option<String>,
    /// `azp`: origin of the page that minted the token.
    pub azp: Option<String>,
    /// `exp` in seconds.
    pub exp: i64,
    /// `iat` in seconds.
    pub iat: Option<i64>,
    /// `nbf` in seconds.
    pub nbf: Option<i64>,
    /// `v`: claim version; `Some(2)` selects the compact organization claims.
    pub version: Option<i64>,
    /// `sts`: session status (`active` or `pending`).
    pub session_status: Option<String>,
    /// `fva`: minutes since the last first- and second-factor verification (`-1` = never).
    pub factor_verification_age: Option<[i64; 2]>,
    /// `act`: the impersonator, if any.
    pub actor: Option<Actor>,
    /// v2 `o`.
    pub organization: Option<OrganizationClaim>,
    /// v2 `fea`: comma-separated `scope:feature` entries.
    pub features: Option<String>,
    /// v2 `pla`: comma-separated `scope:plan` entries.
    pub plans: Option<String>,
    /// v1 `org_id`.
    pub org_id: Option<String>,
    /// v1 `org_slug`.
    pub org_slug: Option<String>,
    /// v1 `org_role` (full key, `org:admin`).
    pub org_role: Option<String>,
    /// v1 `org_permissions` (full keys, `org:reports:export`).
    pub org_permissions: Option<Vec<String>>,
    /// Every claim as sent, including custom ones (shared: cloning the claims does not copy
    /// them).
    pub raw: RawClaims,
}

fn string(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// A NumericDate: JSON numbers, fractional ones truncated.
pub(crate) fn seconds(map: &Map<String, Value>, name: &str) -> Option<i64> {
    let value = map.get(name)?;
    value
        .as_i64()
        .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
}

impl SessionClaims {
    /// Types a payload. `None` when `sub` is not a string or `exp` not a number, the two
    /// claims verification requires (wire §2.2).
    ///
    /// ```
    /// use concierge_sdk::SessionClaims;
    /// use serde_json::json;
    ///
    /// let raw = json!({"sub": "user_1", "exp": 1760000060, "sid": "sess_1", "fva": [3, -1]});
    /// let claims = SessionClaims::from_map(raw.as_object().unwrap().clone()).unwrap();
    /// assert_eq!((claims.sid.as_deref(), claims.factor_verification_age), (Some("sess_1"), Some([3, -1])));
    /// let no_exp = json!({"sub": "user_1"});
    /// assert!(SessionClaims::from_map(no_exp.as_object().unwrap().clone()).is_none());
    /// ```
    pub fn from_map(raw: Map<String, Value>) -> Option<Self> {
        let sub = string(&raw, "sub")?;
        let exp = seconds(&raw, "exp")?;
        let organization = raw
            .get("o")
            .and_then(Value::as_object)
            .map(|o| OrganizationClaim {
                id: string(o, "id"),
                slug: string(o, "slg"),
                role: string(o, "rol"),
                permissions: string(o, "per"),
                feature_permission_map: string(o, "fpm"),
            });
        let factor_verification_age =
            raw.get("fva").and_then(Value::as_array).and_then(|a| {
                match (
                    a.first().and_then(Value::as_i64),
                    a.get(1).and_then(Value::as_i64),
                ) {
                    (Some(first), Some(second)) if a.len() == 2 => Some([first, second]),
                    _ => None,
                }
            });
        let actor = raw.get("act").and_then(Value::as_object).and_then(|act| {
            Some(Actor {
                sub: string(act, "sub")?,
                actor_type: string(act, "type"),
            })
        });
        let org_permissions = raw
            .get("org_permissions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            });
        Some(Self {
            sid: string(&raw, "sid"),
            iss: string(&raw, "iss"),
            azp: string(&raw, "azp"),
            iat: seconds(&raw, "iat"),
            nbf: seconds(&raw, "nbf"),
            version: raw.get("v").and_then(Value::as_i64),
            session_status: string(&raw, "sts"),
            features: string(&raw, "fea"),
            plans: string(&raw, "pla"),
            org_id: string(&raw, "org_id"),
            org_slug: string(&raw, "org_slug"),
            org_role: string(&raw, "org_role"),
            org_permissions,
            factor_verification_age,
            actor,
            organization,
            sub,
            exp,
            raw: RawClaims(LazyObject::from_map(raw)),
        })
    }

    /// The claims of a decoded payload, typed in the same pass that parsed it; `None` like
    /// [`from_map`](Self::from_map). `tests::typed_pass_agrees_with_from_map` holds the two
    /// to the same results.
    pub(crate) fn from_payload(payload: Payload, raw: LazyObject) -> Option<Self> {
        let Payload {
            sub,
            exp,
            nbf,
            iat,
            iss,
            azp,
            sid,
            v,
            sts,
            fva,
            act,
            o,
            fea,
            pla,
            org_id,
            org_slug,
            org_role,
            org_permissions,
        } = payload;
        let exp = exp.seconds()?;
        Some(Self {
            sub: sub.into_valid()?,
            sid: sid.into_valid(),
            iss: iss.into_valid(),
            azp: azp.into_valid(),
            exp,
            iat: iat.seconds(),
            nbf: nbf.seconds(),
            version: v.valid().and_then(|n| n.as_i64()),
            session_status: sts.into_valid(),
            factor_verification_age: fva.into_valid(),
            actor: act.into_valid().and_then(|act| {
                Some(Actor {
                    sub: act.sub.into_valid()?,
                    actor_type: act.kind.into_valid(),
                })
            }),
            organization: o.into_valid().map(|o| OrganizationClaim {
                id: o.id.into_valid(),
                slug: o.slg.into_valid(),
                role: o.rol.into_valid(),
                permissions: o.per.into_valid(),
                feature_permission_map: o.fpm.into_valid(),
            }),
            features: fea.into_valid(),
            plans: pla.into_valid(),
            org_id: org_id.into_valid(),
            org_slug: org_slug.into_valid(),
            org_role: org_role.into_valid(),
            org_permissions: org_permissions.into_valid().map(|list| list.0),
            raw: RawClaims(raw),
        })
    }

    /// Whether these are v2 claims (`v: 2`).
    ///
    /// ```
    /// use concierge_sdk::SessionClaims;
    /// use serde_json::json;
    ///
    /// let v2 = json!({"sub": "user_1", "exp": 1760000060, "v": 2});
    /// assert!(SessionClaims::from_map(v2.as_object().unwrap().clone()).unwrap().is_v2());
    /// let v1 = json!({"sub": "user_1", "exp": 1760000060});
    /// assert!(!SessionClaims::from_map(v1.as_object().unwrap().clone()).unwrap().is_v2());
    /// ```
    pub fn is_v2(&self) -> bool {
        self.version == Some(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Option<SessionClaims> {
        SessionClaims::from_map(value.as_object().unwrap().clone())
    }

    #[test]
    fn appendix_a_v2_claims() {
        let claims = parse(json!({
            "iss": "https://clerk.example.test", "sub": "user_2abc", "sid": "sess_2abc",
            "azp": "http://localhost:3000", "iat": 1760000000, "nbf": 1759999990, "exp": 1760000060,
            "v": 2, "sts": "active", "fva": [0, -1], "fea": "o:reports,o:posts",
            "o": { "id": "org_2abc", "slg": "acme", "rol": "admin", "per": "export,read,publish", "fpm": "3,6" }
        }))
        .unwrap();
        assert!(claims.is_v2());
        assert_eq!(claims.sid.as_deref(), Some("sess_2abc"));
        assert_eq!(claims.iat, Some(1760000000));
        assert_eq!(claims.nbf, Some(1759999990));
        assert_eq!(claims.factor_verification_age, Some([0, -1]));
        assert_eq!(claims.session_status.as_deref(), Some("active"));
        assert_eq!(claims.features.as_deref(), Some("o:reports,o:posts"));
        let org = claims.organization.unwrap();
        assert_eq!(org.id.as_deref(), Some("org_2abc"));
        assert_eq!(org.slug.as_deref(), Some("acme"));
        assert_eq!(org.permissions.as_deref(), Some("export,read,publish"));
        assert_eq!(org.feature_permission_map.as_deref(), Some("3,6"));
    }

    #[test]
    fn v1_claims_and_actor() {
        let claims = parse(json!({
            "sub": "user_1", "exp": 10.9, "org_id": "org_1", "org_slug": "acme",
            "org_role": "org:admin", "org_permissions": ["org:reports:export", 7],
            "act": {"sub": "user_admin", "type": "impersonation"}
        }))
        .unwrap();
        assert!(!claims.is_v2());
        assert_eq!(claims.exp, 10);
        assert_eq!(claims.org_role.as_deref(), Some("org:admin"));
        assert_eq!(
            claims.org_permissions,
            Some(vec!["org:reports:export".to_owned()])
        );
        assert_eq!(claims.actor.unwrap().sub, "user_admin");
    }

    #[test]
    fn typed_pass_agrees_with_from_map() {
        let cases = [
            r#"{"iss":"https://clerk.example.test","sub":"user_2abc","sid":"sess_2abc","azp":"http://localhost:3000","iat":1760000000,"nbf":1759999990,"exp":1760000060,"v":2,"sts":"active","fva":[0,-1],"fea":"o:reports","o":{"id":"org_1","slg":"acme","rol":"admin","per":"read","fpm":"3"}}"#,
            r#"{"sub":"user_1","exp":10.9,"org_id":"org_1","org_slug":"acme","org_role":"org:admin","org_permissions":["org:a:b",7,null,"org:c:d"],"act":{"sub":"user_admin","type":"impersonation"}}"#,
            r#"{"sub":"user_1","exp":1,"sid":5,"fva":[1],"o":"x","act":{"type":"x"},"v":2.0,"sts":null}"#,
            r#"{"sub":"user_1","exp":1,"fva":[1,2,3],"org_permissions":"x","pla":["a"]}"#,
            r#"{"sub":"user_1","exp":1,"fva":[1,"2"],"iat":"1","nbf":null}"#,
            r#"{"sub":"user_1","exp":1,"fva":[1.5,2],"v":"2"}"#,
            r#"{"sub":"user_1","exp":18446744073709551615,"iat":-5,"nbf":1e300,"v":9223372036854775808}"#,
            r#"{"sub":"first","sub":"second","exp":1,"exp":2}"#,
            r#"{"sub":"user_1","exp":1,"o":{"id":"org_1"},"o":"gone"}"#,
            r#"{"sub":"user_1","exp":1,"o":"x","o":{"id":"a","id":"b","rol":{"n":1}}}"#,
            r#"{"sub":"user_\u0031","exp":1,"azp":"http:\/\/localhost","iss":"\u00e9t\u00e9 \ud83d\ude00"}"#,
            r#"{"sub":"user_1","exp":"1"}"#,
            r#"{"sub":1,"exp":1}"#,
            r#"{"exp":1}"#,
            r#"{}"#,
            r#"{"sub":"user_1","exp":1,"custom":{"deep":[{"x":[1,{"y":null}]}]},"theme":"dark","o":null,"act":null}"#,
        ];
        for json in cases {
            let map: Map<String, Value> = serde_json::from_str(json).unwrap();
            let payload: Payload = serde_json::from_str(json).unwrap();
            let typed =
                SessionClaims::from_payload(payload, LazyObject::from_checked_json(json.into()));
            assert_eq!(typed, SessionClaims::from_map(map.clone()), "{json}");
            if let Some(typed) = typed {
                assert_eq!(*typed.raw, map, "{json}");
            }
        }
    }

    #[test]
    fn sub_and_exp_are_required_and_others_lenient() {
        assert!(parse(json!({"exp": 1})).is_none());
        assert!(parse(json!({"sub": 1, "exp": 1})).is_none());
        assert!(parse(json!({"sub": "user_1"})).is_none());
        assert!(parse(json!({"sub": "user_1", "exp": "1"})).is_none());
        let claims =
            parse(json!({"sub": "user_1", "exp": 1, "sid": 5, "fva": [1], "o": "x"})).unwrap();
        assert_eq!(claims.sid, None);
        assert_eq!(claims.factor_verification_age, None);
        assert_eq!(claims.organization, None);
    }
}
