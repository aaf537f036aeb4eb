//! One typed pass over a JWT's header and payload JSON: the claims the SDK reads are taken
//! as they are parsed (keys matched without allocating, unknown values skipped without
//! building them), and the whole object becomes a `serde_json` map only when something asks
//! for it ([`LazyObject`]).
//!
//! The typed pass accepts exactly the documents `serde_json::Value` accepts (skipped values
//! still go through `deserialize_any`, which checks string escapes, number ranges and nesting
//! depth), so the lazy map can always be built, and every typed claim equals what reading it
//! from that map gives (duplicate keys: the last one wins in both; `tests` compare them).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::OnceLock;

/// A member of a JSON object as the typed pass saw it.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Claim<T> {
    /// The key is not there.
    #[default]
    Absent,
    /// The key is there with a value of the expected type.
    Valid(T),
    /// The key is there with a value of another type (`null` included).
    Invalid,
}

impl<T> Claim<T> {
    pub(crate) fn valid(&self) -> Option<&T> {
        match self {
            Self::Valid(value) => Some(value),
            _ => None,
        }
    }

    pub(crate) fn into_valid(self) -> Option<T> {
        match self {
            Self::Valid(value) => Some(value),
            _ => None,
        }
    }

    pub(crate) fn is_present(&self) -> bool {
        !matches!(self, Self::Absent)
    }
}

impl Claim<String> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        self.valid().map(String::as_str)
    }
}

/// A JSON number as `serde_json::Number` keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Uint(u64),
    Float(f64),
}

impl Number {
    /// `Value::as_i64`: integers that fit.
    pub(crate) fn as_i64(self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(n),
            Self::Uint(n) => i64::try_from(n).ok(),
            Self::Float(_) => None,
        }
    }

    /// A NumericDate: `as_i64`, else the float truncated (what `claims::seconds` reads).
    pub(crate) fn seconds(self) -> Option<i64> {
        self.as_i64().or_else(|| {
            let float = match self {
                Self::Uint(n) => n as f64,
                Self::Float(f) => f,
                Self::Int(n) => n as f64,
            };
            float.is_finite().then_some(float as i64)
        })
    }
}

impl Claim<Number> {
    pub(crate) fn seconds(&self) -> Option<i64> {
        self.valid().copied().and_then(Number::seconds)
    }
}

/// Skips any JSON value, checking it as strictly as building a `Value` would, allocating
/// nothing for it.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_none<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Skip, D::Error> {
        d.deserialize_any(Skip)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// The visitor of a [`Claim`]: `Valid` through `valid`, `Invalid` for every other JSON type
/// (after skipping it).
trait Typed<'de>: Sized {
    fn from_text(_: &str) -> Option<Self> {
        None
    }
    fn from_number(_: Number) -> Option<Self> {
        None
    }
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Option<Self>, A::Error> {
        Skip.visit_seq(seq).map(|_| None)
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        Skip.visit_map(map).map(|_| None)
    }
}

struct ClaimVisitor<T>(std::marker::PhantomData<T>);

fn claim<T>(value: Option<T>) -> Claim<T> {
    value.map_or(Claim::Invalid, Claim::Valid)
}

impl<'de, T: Typed<'de>> Visitor<'de> for ClaimVisitor<T> {
    type Value = Claim<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Claim<T>, E> {
        Ok(Claim::Invalid)
    }
    fn visit_i64<E>(self, n: i64) -> Result<Claim<T>, E> {
        Ok(claim(T::from_number(Number::Int(n))))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Claim<T>, E> {
        Ok(claim(T::from_number(Number::Uint(n))))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Claim<T>, E> {
        Ok(claim(T::from_number(Number::Float(n))))
    }
    fn visit_str<E>(self, s: &str) -> Result<Claim<T>, E> {
        Ok(claim(T::from_text(s)))
    }
    fn visit_unit<E>(self) -> Result<Claim<T>, E> {
        Ok(Claim::Invalid)
    }
    fn visit_none<E>(self) -> Result<Claim<T>, E> {
        Ok(Claim::Invalid)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Claim<T>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Claim<T>, A::Error> {
        T::from_seq(seq).map(claim)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Claim<T>, A::Error> {
        T::from_map(map).map(claim)
    }
}

impl<'de, T: Typed<'de>> Deserialize<'de> for Claim<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ClaimVisitor(std::marker::PhantomData))
    }
}

impl Typed<'_> for String {
    fn from_text(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
}

impl Typed<'_> for Number {
    fn from_number(n: Number) -> Option<Self> {
        Some(n)
    }
}

/// `fva`: exactly two integers.
impl<'de> Typed<'de> for [i64; 2] {
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut items = [None; 2];
        let mut len = 0usize;
        while let Some(item) = seq.next_element::<Claim<Number>>()? {
            if let Some(slot) = items.get_mut(len) {
                *slot = item.valid().copied().and_then(Number::as_i64);
            }
            len += 1;
        }
        Ok(match (len, items) {
            (2, [Some(first), Some(second)]) => Some([first, second]),
            _ => None,
        })
    }
}

/// An array, keeping its string items (`org_permissions`).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Strings(pub(crate) Vec<String>);

impl<'de> Typed<'de> for Strings {
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Claim<String>>()? {
            if let Claim::Valid(item) = item {
                items.push(item);
            }
        }
        Ok(Some(Self(items)))
    }
}

/// Reads an object's members by name: `key` maps a name to a slot index (`None`: skipped),
/// `read` parses the value of a slot.
fn read_object<'de, A: MapAccess<'de>>(
    mut map: A,
    key: fn(&str) -> Option<u8>,
    mut read: impl FnMut(u8, &mut A) -> Result<(), A::Error>,
) -> Result<(), A::Error> {
    while let Some(slot) = map.next_key_seed(KeySeed(key))? {
        match slot {
            Some(slot) => read(slot, &mut map)?,
            None => {
                map.next_value::<Skip>()?;
            }
        }
    }
    Ok(())
}

/// A member name matched against known names without allocating it.
struct KeySeed(fn(&str) -> Option<u8>);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Option<u8>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<u8>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Option<u8>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Option<u8>, E> {
        Ok((self.0)(name))
    }
}

/// The v2 `o` claim's members.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Organization {
    pub(crate) id: Claim<String>,
    pub(crate) slg: Claim<String>,
    pub(crate) rol: Claim<String>,
    pub(crate) per: Claim<String>,
    pub(crate) fpm: Claim<String>,
}

impl<'de> Typed<'de> for Organization {
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        let mut org = Self::default();
        let key = |name: &str| match name {
            "id" => Some(0),
            "slg" => Some(1),
            "rol" => Some(2),
            "per" => Some(3),
            "fpm" => Some(4),
            _ => None,
        };
        read_object(map, key, |slot, map| {
            let value = map.next_value()?;
            match slot {
                0 => org.id = value,
                1 => org.slg = value,
                2 => org.rol = value,
                3 => org.per = value,
                _ => org.fpm = value,
            }
            Ok(())
        })?;
        Ok(Some(org))
    }
}

/// The `act` claim's members.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Act {
    pub(crate) sub: Claim<String>,
    pub(crate) kind: Claim<String>,
}

impl<'de> Typed<'de> for Act {
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        let mut act = Self::default();
        let key = |name: &str| match name {
            "sub" => Some(0),
            "type" => Some(1),
            _ => None,
        };
        read_object(map, key, |slot, map| {
            let value = map.next_value()?;
            match slot {
                0 => act.sub = value,
                _ => act.kind = value,
            }
            Ok(())
        })?;
        Ok(Some(act))
    }
}

/// A header value from a small vocabulary (`alg`, `typ`, `cat`): the values session tokens
/// carry are kept as `'static` strings, so reading them allocates nothing; any other value is
/// kept as it came.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Word {
    Known(&'static str),
    Other(String),
}

impl Word {
    const KNOWN: [&'static str; 8] = [
        "RS256",
        "JWT",
        crate::verify::SESSION_TOKEN_CATEGORY,
        "RS384",
        "RS512",
        crate::verify::IGNORED_TOKEN_CATEGORY,
        crate::verify::TEMPLATE_TOKEN_CATEGORY,
        crate::verify::M2M_TOKEN_CATEGORY,
    ];

    fn as_str(&self) -> &str {
        match self {
            Self::Known(word) => word,
            Self::Other(word) => word,
        }
    }
}

impl Typed<'_> for Word {
    fn from_text(s: &str) -> Option<Self> {
        Some(match Self::KNOWN.iter().find(|known| **known == s) {
            Some(known) => Self::Known(known),
            None => Self::Other(s.to_owned()),
        })
    }
}

impl Claim<Word> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        self.valid().map(Word::as_str)
    }
}

/// The JOSE header members the SDK reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Header {
    pub(crate) alg: Claim<Word>,
    pub(crate) kid: Claim<String>,
    pub(crate) typ: Claim<Word>,
    pub(crate) cat: Claim<Word>,
}

impl<'de> Deserialize<'de> for Header {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Header;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Header, A::Error> {
                let mut header = Header::default();
                let key = |name: &str| match name {
                    "alg" => Some(0),
                    "kid" => Some(1),
                    "typ" => Some(2),
                    "cat" => Some(3),
                    _ => None,
                };
                read_object(map, key, |slot, map| {
                    match slot {
                        0 => header.alg = map.next_value()?,
                        1 => header.kid = map.next_value()?,
                        2 => header.typ = map.next_value()?,
                        _ => header.cat = map.next_value()?,
                    }
                    Ok(())
                })?;
                Ok(header)
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// The payload members the SDK reads: the registered claims and the session claims (§2.2).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Payload {
    pub(crate) sub: Claim<String>,
    pub(crate) exp: Claim<Number>,
    pub(crate) nbf: Claim<Number>,
    pub(crate) iat: Claim<Number>,
    pub(crate) iss: Claim<String>,
    pub(crate) azp: Claim<String>,
    pub(crate) sid: Claim<String>,
    pub(crate) v: Claim<Number>,
    pub(crate) sts: Claim<String>,
    pub(crate) fva: Claim<[i64; 2]>,
    pub(crate) act: Claim<Act>,
    pub(crate) o: Claim<Organization>,
    pub(crate) fea: Claim<String>,
    pub(crate) pla: Claim<String>,
    pub(crate) org_id: Claim<String>,
    pub(crate) org_slug: Claim<String>,
    pub(crate) org_role: Claim<String>,
    pub(crate) org_permissions: Claim<Strings>,
}

fn payload_key(name: &str) -> Option<u8> {
    Some(match name {
        "sub" => 0,
        "exp" => 1,
        "nbf" => 2,
        "iat" => 3,
        "iss" => 4,
        "azp" => 5,
        "sid" => 6,
        "v" => 7,
        "sts" => 8,
        "fva" => 9,
        "act" => 10,
        "o" => 11,
        "fea" => 12,
        "pla" => 13,
        "org_id" => 14,
        "org_slug" => 15,
        "org_role" => 16,
        "org_permissions" => 17,
        _ => return None,
    })
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Payload;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Payload, A::Error> {
                let mut p = Payload::default();
                read_object(map, payload_key, |slot, map| {
                    match slot {
                        0 => p.sub = map.next_value()?,
                        1 => p.exp = map.next_value()?,
                        2 => p.nbf = map.next_value()?,
                        3 => p.iat = map.next_value()?,
                        4 => p.iss = map.next_value()?,
                        5 => p.azp = map.next_value()?,
                        6 => p.sid = map.next_value()?,
                        7 => p.v = map.next_value()?,
                        8 => p.sts = map.next_value()?,
                        9 => p.fva = map.next_value()?,
                        10 => p.act = map.next_value()?,
                        11 => p.o = map.next_value()?,
                        12 => p.fea = map.next_value()?,
                        13 => p.pla = map.next_value()?,
                        14 => p.org_id = map.next_value()?,
                        15 => p.org_slug = map.next_value()?,
                        16 => p.org_role = map.next_value()?,
                        _ => p.org_permissions = map.next_value()?,
                    }
                    Ok(())
                })?;
                Ok(p)
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// A JSON object kept as its text, parsed into a map the first time it is read. It lives
/// inline in its token (no allocation of its own on the request path); a clone copies the
/// text and the map if it was built.
#[derive(Clone)]
pub(crate) struct LazyObject {
    json: String,
    map: OnceLock<Map<String, Value>>,
}

impl LazyObject {
    /// Text that the typed pass has accepted as an object.
    pub(crate) fn from_checked_json(json: String) -> Self {
        Self {
            json,
            map: OnceLock::new(),
        }
    }

    /// An object that is already a map.
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Self {
            json: String::new(),
            map: OnceLock::from(map),
        }
    }

    /// The object as a map. The typed pass accepted the text, so `serde_json` parses it too
    /// (see the module docs); the empty map is never reached in practice.
    pub(crate) fn map(&self) -> &Map<String, Value> {
        self.map
            .get_or_init(|| serde_json::from_str(&self.json).unwrap_or_default())
    }
}

impl fmt::Debug for LazyObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.map().fmt(f)
    }
}

impl PartialEq for LazyObject {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other) || self.map() == other.map()
    }
}

/// Skips a JSON value (tests of the strictness claim above).
#[cfg(test)]
pub(crate) fn skip_value(json: &str) -> serde_json::Result<()> {
    serde_json::from_str::<Skip>(json).map(|_| ())
}

/// `IgnoredAny` is what a derive would use to skip; kept out because it does not check string
/// escapes or number ranges (`tests::skipping_is_as_strict_as_value` shows the difference).
#[cfg(test)]
pub(crate) fn ignore_value(json: &str) -> serde_json::Result<()> {
    serde_json::from_str::<serde::de::IgnoredAny>(json).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipping_is_as_strict_as_value() {
        for (json, value_accepts) in [
            (r#"{"a":[1,2.5,-3,true,null,"x\n",{"b":{}}]}"#, true),
            (r#""\ud800""#, false), // lone surrogate
            ("1e400", false),       // out of range
            (&format!("{}1{}", "[".repeat(200), "]".repeat(200)), false), // too deep
            ("[1,]", false),
            ("{\"a\":1}x", false),
        ] {
            assert_eq!(
                serde_json::from_str::<Value>(json).is_ok(),
                value_accepts,
                "{json}"
            );
            assert_eq!(skip_value(json).is_ok(), value_accepts, "{json}");
        }
        // What the derive's skipping would have let through.
        assert!(ignore_value(r#""\ud800""#).is_ok());
    }

    #[test]
    fn numbers_read_like_value() {
        for json in [
            "7",
            "-7",
            "7.9",
            "-7.9",
            "18446744073709551615",
            "1e300",
            "0.0",
        ] {
            let value: Value = serde_json::from_str(json).unwrap();
            let claim: Claim<Number> = serde_json::from_str(json).unwrap();
            let number = *claim.valid().unwrap();
            assert_eq!(number.as_i64(), value.as_i64(), "{json}");
            let map = serde_json::json!({ "n": value });
            assert_eq!(
                number.seconds(),
                crate::claims::seconds(map.as_object().unwrap(), "n"),
                "{json}"
            );
        }
        let claim: Claim<Number> = serde_json::from_str("\"7\"").unwrap();
        assert_eq!(claim, Claim::Invalid);
        let claim: Claim<Number> = serde_json::from_str("null").unwrap();
        assert_eq!(claim, Claim::Invalid);
    }
}
