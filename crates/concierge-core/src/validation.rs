//! Input rules for identifiers and passwords, applied identically by every API.

use crate::error::CoreError;

/// Normalises and checks an email address: trimmed, lowercased, one `@`, a dotted domain,
/// no whitespace or control characters, at most 254 bytes (RFC 5321 path limit).
pub fn normalize_email(raw: &str) -> Result<String, CoreError> {
    let email = raw.trim().to_lowercase();
    let invalid = CoreError::FormatInvalid {
        param: "email_address",
    };
    if email.is_empty() || email.len() > 254 {
        return Err(invalid);
    }
    let (local, domain) = email.split_once('@').ok_or(invalid.clone())?;
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '@' || c == ',';
    if local.is_empty()
        || local.len() > 64
        || local.chars().any(bad_char)
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err(invalid);
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels.iter().any(|l| {
            l.is_empty()
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
    {
        return Err(invalid);
    }
    Ok(email)
}

/// Whether an address uses the `+clerk_test` sub-address of test mode (operator contract).
pub fn is_test_email(email: &str) -> bool {
    email
        .split_once('@')
        .is_some_and(|(local, _)| local.contains("+clerk_test"))
}

/// Normalises and checks a username: 4 to 64 characters of letters, digits, `_`, `-` and `.`, lowercased.
pub fn normalize_username(raw: &str) -> Result<String, CoreError> {
    let username = raw.trim().to_lowercase();
    let ok_len = (4..=64).contains(&username.chars().count());
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok_len && ok_chars {
        Ok(username)
    } else {
        Err(CoreError::FormatInvalid { param: "username" })
    }
}

/// Checks a new password against the instance policy: at least `min_len` characters, at most 72 bytes.
pub fn check_password_policy(password: &str, min_len: usize) -> Result<(), CoreError> {
    if password.chars().count() < min_len {
        return Err(CoreError::PasswordTooShort { min: min_len });
    }
    if password.len() > 72 {
        return Err(CoreError::PasswordTooLong);
    }
    Ok(())
}

/// Checks a free-text name field (first or last name): at most 256 characters, no control characters.
pub fn check_name(value: &str, param: &'static str) -> Result<(), CoreError> {
    if value.chars().count() > 256 || value.chars().any(char::is_control) {
        return Err(CoreError::FormatInvalid { param });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email(" Jane@Example.COM ").unwrap(),
            "jane@example.com"
        );
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "ja ne@example.com",
            "a@b@c.com",
            "jane@.com",
            "jane..x@example.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn test_addresses_are_recognised() {
        assert!(is_test_email("jane+clerk_test@example.com"));
        assert!(!is_test_email("jane@example.com"));
    }

    #[test]
    fn password_policy_bounds() {
        assert_eq!(
            check_password_policy("short", 8),
            Err(CoreError::PasswordTooShort { min: 8 })
        );
        assert!(check_password_policy("long enough", 8).is_ok());
        assert_eq!(
            check_password_policy(&"x".repeat(73), 8),
            Err(CoreError::PasswordTooLong)
        );
    }

    #[test]
    fn usernames() {
        assert_eq!(normalize_username("Jane_Doe").unwrap(), "jane_doe");
        assert!(normalize_username("abc").is_err());
        assert!(normalize_username("has space").is_err());
    }
}
