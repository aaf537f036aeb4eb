//! JWT-template shortcodes: `{{user.first_name}}`, `{{user.public_metadata.plan || 'free'}}`, …
//!
//! A string that is exactly one shortcode becomes the referenced value with its JSON type
//! (or `null` when missing); shortcodes inside a longer string are interpolated as text, with
//! missing values as empty text. `a || b || 'literal'` takes the first present, non-null alternative.

use serde_json::{Map, Value};

/// Claims a template may not set: the server owns them.
pub const RESERVED_CLAIMS: &[&str] = &["azp", "exp", "iat", "iss", "jti", "nbf", "sub", "sid"];

/// Renders the claims of a template against a context such as `{"user": {…}, "session": {…}}`.
pub fn render_claims(claims: &Value, context: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Value::Object(map) = claims {
        for (key, value) in map {
            if RESERVED_CLAIMS.contains(&key.as_str()) {
                continue;
            }
            out.insert(key.clone(), render_value(value, context));
        }
    }
    out
}

fn render_value(value: &Value, context: &Value) -> Value {
    match value {
        Value::String(s) => render_string(s, context),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| render_value(v, context)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render_value(v, context)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn render_string(s: &str, context: &Value) -> Value {
    let trimmed = s.trim();
    if let Some(inner) = trimmed
        .strip_prefix("{{")
        .and_then(|r| r.strip_suffix("}}"))
    {
        if !inner.contains("{{") && !inner.contains("}}") {
            return evaluate(inner, context);
        }
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Value::String(out);
        };
        match evaluate(&after[..end], context) {
            Value::Null => {}
            Value::String(text) => out.push_str(&text),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Value::String(out)
}

fn evaluate(expr: &str, context: &Value) -> Value {
    for alternative in expr.split("||") {
        let alternative = alternative.trim();
        let literal = alternative
            .strip_prefix('\'')
            .and_then(|r| r.strip_suffix('\''))
            .or_else(|| {
                alternative
                    .strip_prefix('"')
                    .and_then(|r| r.strip_suffix('"'))
            });
        if let Some(text) = literal {
            return Value::String(text.to_owned());
        }
        let found = alternative
            .split('.')
            .try_fold(context, |value, segment| value.get(segment));
        match found {
            Some(Value::Null) | None => continue,
            Some(value) => return value.clone(),
        }
    }
    Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Value {
        json!({"user": {"id": "user_1", "first_name": "Jane", "last_name": null,
                        "public_metadata": {"plan": "pro", "seats": 3}},
               "session": {"id": "sess_1"}})
    }

    #[test]
    fn whole_shortcode_keeps_type_and_missing_is_null() {
        let claims = json!({"seats": "{{user.public_metadata.seats}}", "last": "{{user.last_name}}", "meta": "{{user.public_metadata}}"});
        let out = render_claims(&claims, &context());
        assert_eq!(out["seats"], json!(3));
        assert_eq!(out["last"], Value::Null);
        assert_eq!(out["meta"], json!({"plan": "pro", "seats": 3}));
    }

    #[test]
    fn interpolation_fallbacks_and_reserved_claims() {
        let claims = json!({"name": "{{user.first_name}} {{user.last_name}}!", "tier": "{{user.public_metadata.tier || 'free'}}",
                            "sub": "nope", "nested": {"s": ["{{session.id}}"]}, "n": 5});
        let out = render_claims(&claims, &context());
        assert_eq!(out["name"], json!("Jane !"));
        assert_eq!(out["tier"], json!("free"));
        assert!(!out.contains_key("sub"));
        assert_eq!(out["nested"], json!({"s": ["sess_1"]}));
        assert_eq!(out["n"], json!(5));
    }
}
