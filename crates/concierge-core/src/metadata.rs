//! Metadata documents: always JSON objects, merged the way Clerk's metadata PATCH merges them.

use crate::error::CoreError;
use serde_json::{Map, Value};

/// Checks that a metadata value is an object and at most 8 KiB serialised (Clerk's limit).
pub fn check_metadata(value: &Value, param: &'static str) -> Result<(), CoreError> {
    if !value.is_object() {
        return Err(CoreError::FormatInvalid { param });
    }
    if value.to_string().len() > 8 * 1024 {
        return Err(CoreError::OutOfRange { param });
    }
    Ok(())
}

/// Deep-merges `patch` into `base`: objects merge key by key, a `null` removes the key,
/// anything else replaces the old value.
pub fn deep_merge(base: &Value, patch: &Value) -> Value {
    match (base, patch) {
        (Value::Object(base_map), Value::Object(patch_map)) => {
            let mut out: Map<String, Value> = base_map.clone();
            for (key, patch_value) in patch_map {
                if patch_value.is_null() {
                    out.remove(key);
                } else if let Some(existing) = out.get(key) {
                    let merged = deep_merge(existing, patch_value);
                    out.insert(key.clone(), merged);
                } else {
                    out.insert(key.clone(), strip_nulls(patch_value));
                }
            }
            Value::Object(out)
        }
        (_, patch) => strip_nulls(patch),
    }
}

fn strip_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_is_deep_and_null_deletes() {
        let base = json!({"a": 1, "nested": {"x": 1, "y": 2}, "gone": true});
        let patch = json!({"b": 2, "nested": {"y": 3, "z": null}, "gone": null});
        assert_eq!(
            deep_merge(&base, &patch),
            json!({"a": 1, "b": 2, "nested": {"x": 1, "y": 3}})
        );
    }

    #[test]
    fn metadata_must_be_an_object() {
        assert!(check_metadata(&json!([1]), "public_metadata").is_err());
        assert!(check_metadata(&json!({"k": "v"}), "public_metadata").is_ok());
    }
}
