//! Route matching with the pattern syntax of `createRouteMatcher` in `@clerk/nextjs` and
//! `@clerk/astro`: path-to-regexp 6 (`:param` segments, `(regex)` groups such as `(.*)`,
//! `{…}` groups, `?`/`*`/`+` modifiers), case-insensitive, an optional trailing delimiter, and
//! the request path normalised first (`decodeURI`, then repeated `/` collapsed).
//!
//! Patterns are compiled to [`regex::Regex`] once. Custom groups are JavaScript regular
//! expressions; the common subset (classes, quantifiers, alternation) means the same in Rust.
//!
//! ```
//! use concierge_sdk::matcher::{normalize_path, MalformedPath, PathPattern};
//! use concierge_sdk::RouteMatcher;
//!
//! // Which pages need what, as `createRouteMatcher([...])` would say it.
//! let public = RouteMatcher::new(["/", "/sign-in(.*)", "/blog/:slug"])?;
//! let admin = RouteMatcher::new(["/admin(.*)", "/orgs/:slug/settings(.*)"])?;
//! let access = |path: &str| -> Result<&str, MalformedPath> {
//!     Ok(if public.matches(path)? {
//!         "public"
//!     } else if admin.matches(path)? {
//!         "admins"
//!     } else {
//!         "signed in"
//!     })
//! };
//! assert_eq!(access("/blog/hello-world")?, "public");
//! assert_eq!(access("/Admin/users/")?, "admins", "case-insensitive, trailing slash allowed");
//! assert_eq!(access("//orgs/acme/settings/members")?, "admins", "`//` is collapsed first");
//! assert_eq!(access("/dashboard")?, "signed in");
//! assert!(access("/%E0%A4%A").is_err(), "a malformed escape is refused, not guessed");
//!
//! // One pattern also captures its parameters.
//! let settings = PathPattern::new("/orgs/:slug/settings(.*)")?;
//! let params = settings.captures("/orgs/acme/settings/members").unwrap_or_default();
//! assert_eq!(params["slug"], "acme");
//! assert_eq!(normalize_path("//orgs/%61cme")?, "/orgs/acme");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use regex::Regex;
use std::collections::BTreeMap;

/// Characters path-to-regexp treats as segment delimiters.
const DELIMITER: &str = "/#?";
/// Characters that become a parameter's prefix when they precede it.
const PREFIXES: &str = "./";

/// Why a pattern was refused.
///
/// ```
/// let error = concierge_sdk::RouteMatcher::new(["/orgs/("]).unwrap_err();
/// assert_eq!(error.pattern, "/orgs/(");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid route pattern {pattern:?}: {message}")]
pub struct PatternError {
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it (path-to-regexp's wording where it has one).
    pub message: String,
}

/// A request path that cannot be matched because its percent-encoding is invalid; Clerk's
/// middleware answers such requests with 400.
///
/// ```
/// let matcher = concierge_sdk::RouteMatcher::new(["/(.*)"]).unwrap();
/// let error = matcher.matches("/%E0%A4%A").unwrap_err();
/// assert_eq!(error.0, "/%E0%A4%A");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed encoding in URL path {0:?}")]
pub struct MalformedPath(pub String);

#[derive(Debug, Clone, PartialEq)]
enum Lexeme {
    Modifier(char),
    Escaped(char),
    Open,
    Close,
    Name(String),
    Pattern(String),
    Char(char),
    End,
}

fn lex(pattern: &str) -> Result<Vec<Lexeme>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '+' | '?' => {
                out.push(Lexeme::Modifier(c));
                i += 1;
            }
            '\\' => {
                let escaped = *chars
                    .get(i + 1)
                    .ok_or_else(|| format!("Missing escaped character at {i}"))?;
                out.push(Lexeme::Escaped(escaped));
                i += 2;
            }
            '{' => {
                out.push(Lexeme::Open);
                i += 1;
            }
            '}' => {
                out.push(Lexeme::Close);
                i += 1;
            }
            ':' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                if j == i + 1 {
                    return Err(format!("Missing parameter name at {i}"));
                }
                out.push(Lexeme::Name(chars[i + 1..j].iter().collect()));
                i = j;
            }
            '(' => {
                let mut count = 1;
                let mut group = String::new();
                let mut j = i + 1;
                if chars.get(j) == Some(&'?') {
                    return Err(format!("Pattern cannot start with \"?\" at {j}"));
                }
                while j < chars.len() {
                    if chars[j] == '\\' {
                        group.push('\\');
                        group.push(
                            *chars
                                .get(j + 1)
                                .ok_or_else(|| format!("Unbalanced pattern at {i}"))?,
                        );
                        j += 2;
                        continue;
                    }
                    if chars[j] == ')' {
                        count -= 1;
                        if count == 0 {
                            j += 1;
                            break;
                        }
                    } else if chars[j] == '(' {
                        count += 1;
                        if chars.get(j + 1) != Some(&'?') {
                            return Err(format!("Capturing groups are not allowed at {j}"));
                        }
                    }
                    group.push(chars[j]);
                    j += 1;
                }
                if count != 0 {
                    return Err(format!("Unbalanced pattern at {i}"));
                }
                if group.is_empty() {
                    return Err(format!("Missing pattern at {i}"));
                }
                out.push(Lexeme::Pattern(group));
                i = j;
            }
            _ => {
                out.push(Lexeme::Char(c));
                i += 1;
            }
        }
    }
    out.push(Lexeme::End);
    Ok(out)
}

/// A parameter of a parsed pattern.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    name: String,
    prefix: String,
    suffix: String,
    pattern: String,
    modifier: Option<char>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Key(Key),
}

/// path-to-regexp's `escapeString`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if ".+*?=^!:${}()[]|/\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The default pattern of a named parameter (path-to-regexp 6.3 `safePattern`): anything up
/// to the next delimiter, and not running into the literal text before the parameter.
fn safe_pattern(parts: &[Part], prefix: &str) -> Result<String, String> {
    let previous = parts.last();
    let text = if !prefix.is_empty() {
        prefix.to_owned()
    } else {
        match previous {
            Some(Part::Text(text)) => text.clone(),
            _ => String::new(),
        }
    };
    if let (Some(Part::Key(key)), true) = (previous, text.is_empty()) {
        return Err(format!(
            "Must have text between two parameters, missing text after \"{}\"",
            key.name
        ));
    }
    let delimiters = escape(DELIMITER);
    if text.is_empty() || text.chars().any(|c| DELIMITER.contains(c)) {
        return Ok(format!("[^{delimiters}]+?"));
    }
    // `(?:(?!<text>)[^<delimiters>])+?` for a one-character text is a plain class; the regex
    // crate has no look-ahead for longer texts.
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(only), None) => Ok(format!("[^{delimiters}{}]+?", escape(&only.to_string()))),
        _ => Err(format!(
            "a parameter right after the text {text:?} needs an explicit pattern, such as :name([^/]+)"
        )),
    }
}

fn parse(pattern: &str) -> Result<Vec<Part>, String> {
    let tokens = lex(pattern)?;
    let mut i = 0;
    let mut parts = Vec::new();
    let mut path = String::new();
    let mut next_index = 0;
    let mut numbered = |name: String| {
        if name.is_empty() {
            let index = next_index;
            next_index += 1;
            index.to_string()
        } else {
            name
        }
    };
    macro_rules! take {
        ($variant:ident) => {
            match tokens.get(i) {
                Some(Lexeme::$variant(value)) => {
                    i += 1;
                    Some(value.clone())
                }
                _ => None,
            }
        };
    }
    let take_text = |i: &mut usize| {
        let mut text = String::new();
        while let Some(Lexeme::Char(c) | Lexeme::Escaped(c)) = tokens.get(*i) {
            text.push(*c);
            *i += 1;
        }
        text
    };
    while i < tokens.len() {
        let char = take!(Char);
        let name = take!(Name);
        let group = take!(Pattern);
        if name.is_some() || group.is_some() {
            let mut prefix = char.map(String::from).unwrap_or_default();
            if !PREFIXES.contains(prefix.as_str()) {
                path.push_str(&prefix);
                prefix.clear();
            }
            if !path.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut path)));
            }
            let pattern = match group {
                Some(group) => group,
                None => safe_pattern(&parts, &prefix)?,
            };
            let modifier = take!(Modifier);
            parts.push(Part::Key(Key {
                name: numbered(name.unwrap_or_default()),
                prefix,
                suffix: String::new(),
                pattern,
                modifier,
            }));
            continue;
        }
        if let Some(c) = char.or_else(|| take!(Escaped)) {
            path.push(c);
            continue;
        }
        if !path.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut path)));
        }
        if matches!(tokens.get(i), Some(Lexeme::Open)) {
            i += 1;
            let prefix = take_text(&mut i);
            let name = take!(Name).unwrap_or_default();
            let group = take!(Pattern).unwrap_or_default();
            let suffix = take_text(&mut i);
            match tokens.get(i) {
                Some(Lexeme::Close) => i += 1,
                other => return Err(format!("Unexpected {other:?} at {i}, expected CLOSE")),
            }
            let pattern = if !name.is_empty() && group.is_empty() {
                safe_pattern(&parts, &prefix)?
            } else {
                group.clone()
            };
            let name = if name.is_empty() && group.is_empty() {
                String::new()
            } else {
                numbered(name)
            };
            let modifier = take!(Modifier);
            parts.push(Part::Key(Key {
                name,
                prefix,
                suffix,
                pattern,
                modifier,
            }));
            continue;
        }
        match tokens.get(i) {
            Some(Lexeme::End) => i += 1,
            other => return Err(format!("Unexpected {other:?} at {i}, expected END")),
        }
    }
    Ok(parts)
}

fn to_regex(parts: &[Part]) -> Result<(String, Vec<String>), String> {
    let mut route = String::from("(?i)^");
    let mut names = Vec::new();
    for part in parts {
        match part {
            Part::Text(text) => route.push_str(&escape(text)),
            Part::Key(key) => {
                let prefix = escape(&key.prefix);
                let suffix = escape(&key.suffix);
                let modifier = key.modifier.map(String::from).unwrap_or_default();
                let repeated = matches!(key.modifier, Some('+' | '*'));
                if key.pattern.is_empty() {
                    route.push_str(&format!("(?:{prefix}{suffix}){modifier}"));
                    continue;
                }
                names.push(key.name.clone());
                let pattern = &key.pattern;
                if prefix.is_empty() && suffix.is_empty() {
                    if repeated {
                        return Err(format!(
                            "Can not repeat \"{}\" without a prefix and suffix",
                            key.name
                        ));
                    }
                    route.push_str(&format!("({pattern}){modifier}"));
                } else if repeated {
                    let optional = if key.modifier == Some('*') { "?" } else { "" };
                    route.push_str(&format!(
                        "(?:{prefix}((?:{pattern})(?:{suffix}{prefix}(?:{pattern}))*){suffix}){optional}"
                    ));
                } else {
                    route.push_str(&format!("(?:{prefix}({pattern}){suffix}){modifier}"));
                }
            }
        }
    }
    // Not strict (an optional trailing delimiter), anchored at the end.
    route.push_str(&format!("[{}]?$", escape(DELIMITER)));
    Ok((route, names))
}

/// One compiled pattern, with the names of its parameters.
///
/// ```
/// use concierge_sdk::matcher::PathPattern;
///
/// let pattern = PathPattern::new("/orgs/:slug/(.*)").unwrap();
/// let params = pattern.captures("/orgs/acme/settings/members").unwrap();
/// assert_eq!(params["slug"], "acme");
/// assert_eq!(params["0"], "settings/members");
/// ```
#[derive(Debug, Clone)]
pub struct PathPattern {
    source: String,
    regex: Regex,
    names: Vec<String>,
}

impl PathPattern {
    /// Compiles a path-to-regexp 6 pattern.
    ///
    /// ```
    /// use concierge_sdk::matcher::PathPattern;
    ///
    /// let pattern = PathPattern::new("/orgs/:slug")?;
    /// assert!(pattern.is_match("/orgs/acme"));
    /// assert!(PathPattern::new("/orgs/(").is_err());
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        let error = |message: String| PatternError {
            pattern: pattern.to_owned(),
            message,
        };
        let parts = parse(pattern).map_err(error)?;
        let (route, names) = to_regex(&parts).map_err(error)?;
        let regex = Regex::new(&route).map_err(|e| error(e.to_string()))?;
        Ok(Self {
            source: pattern.to_owned(),
            regex,
            names,
        })
    }

    /// The pattern as given.
    ///
    /// ```
    /// use concierge_sdk::matcher::PathPattern;
    ///
    /// assert_eq!(PathPattern::new("/admin(.*)")?.as_str(), "/admin(.*)");
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The equivalent regular expression.
    ///
    /// ```
    /// use concierge_sdk::matcher::PathPattern;
    ///
    /// let pattern = PathPattern::new("/orgs/:slug")?;
    /// assert!(pattern.regex().is_match("/orgs/acme"));
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// Whether an already normalised path matches.
    ///
    /// ```
    /// use concierge_sdk::matcher::PathPattern;
    ///
    /// let pattern = PathPattern::new("/orgs/:slug")?;
    /// assert!(pattern.is_match("/orgs/acme"));
    /// assert!(!pattern.is_match("/orgs/acme/members/x"));
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn is_match(&self, path: &str) -> bool {
        self.regex.is_match(path)
    }

    /// The parameters of a matching (already normalised) path, by name; unnamed groups are
    /// numbered from `"0"`. `None` when the path does not match.
    ///
    /// ```
    /// use concierge_sdk::matcher::PathPattern;
    ///
    /// let pattern = PathPattern::new("/orgs/:slug/(.*)")?;
    /// let params = pattern.captures("/orgs/acme/settings").unwrap();
    /// assert_eq!((params["slug"].as_str(), params["0"].as_str()), ("acme", "settings"));
    /// assert!(pattern.captures("/users").is_none());
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn captures(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let captures = self.regex.captures(path)?;
        Some(
            self.names
                .iter()
                .enumerate()
                .filter_map(|(i, name)| {
                    captures
                        .get(i + 1)
                        .map(|m| (name.clone(), m.as_str().to_owned()))
                })
                .collect(),
        )
    }
}

/// A set of route patterns, like `createRouteMatcher([...])`.
///
/// ```
/// use concierge_sdk::RouteMatcher;
///
/// let protected = RouteMatcher::new(["/dashboard(.*)", "/orgs/:slug", "/orgs/:slug/(.*)"]).unwrap();
/// assert!(protected.matches("/dashboard").unwrap());
/// assert!(protected.matches("/Dashboard/settings/").unwrap());
/// assert!(protected.matches("/orgs/acme").unwrap());
/// assert!(protected.matches("//orgs/acme/members").unwrap());
/// assert!(!protected.matches("/orgs").unwrap());
/// assert!(!protected.matches("/").unwrap());
/// assert!(protected.matches("/%zz").is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct RouteMatcher {
    patterns: Vec<PathPattern>,
}

impl RouteMatcher {
    /// Compiles every pattern; empty strings are ignored, as in Clerk.
    ///
    /// ```
    /// use concierge_sdk::RouteMatcher;
    ///
    /// let public = RouteMatcher::new(["/", "/sign-in(.*)", ""])?;
    /// assert_eq!(public.patterns().len(), 2, "empty patterns are ignored");
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn new<I, S>(patterns: I) -> Result<Self, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns = patterns
            .into_iter()
            .filter(|p| !p.as_ref().is_empty())
            .map(|p| PathPattern::new(p.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    /// The compiled patterns.
    ///
    /// ```
    /// use concierge_sdk::RouteMatcher;
    ///
    /// let matcher = RouteMatcher::new(["/admin(.*)"])?;
    /// assert_eq!(matcher.patterns()[0].as_str(), "/admin(.*)");
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn patterns(&self) -> &[PathPattern] {
        &self.patterns
    }

    /// Whether `path` (the URL path, without query) matches any pattern, after normalisation.
    ///
    /// ```
    /// use concierge_sdk::RouteMatcher;
    ///
    /// let admin = RouteMatcher::new(["/admin(.*)"])?;
    /// assert!(admin.matches("//admin/users").unwrap());
    /// assert!(!admin.matches("/blog").unwrap());
    /// assert!(admin.matches("/%E0%A4%A").is_err(), "a malformed escape");
    /// # Ok::<(), concierge_sdk::matcher::PatternError>(())
    /// ```
    pub fn matches(&self, path: &str) -> Result<bool, MalformedPath> {
        let path = normalize_path(path)?;
        Ok(self.patterns.iter().any(|p| p.is_match(&path)))
    }
}

/// Clerk's `normalizePath`: `decodeURI` (percent-escapes decoded except those of reserved
/// characters `;/?:@&=+$,#`), then runs of `/` collapsed into one.
///
/// ```
/// use concierge_sdk::matcher::normalize_path;
///
/// assert_eq!(normalize_path("//api/%61dmin").unwrap(), "/api/admin");
/// assert_eq!(normalize_path("/api%2Fadmin").unwrap(), "/api%2Fadmin");
/// assert!(normalize_path("/%").is_err());
/// ```
pub fn normalize_path(path: &str) -> Result<String, MalformedPath> {
    let decoded = decode_uri(path).ok_or_else(|| MalformedPath(path.to_owned()))?;
    let mut out = String::with_capacity(decoded.len());
    for c in decoded.chars() {
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    Ok(out)
}

fn hex_byte(bytes: &[u8], at: usize) -> Option<u8> {
    if bytes.get(at) != Some(&b'%') {
        return None;
    }
    let digits = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
    u8::from_str_radix(digits, 16).ok()
}

/// JavaScript's `decodeURI`; `None` where it throws `URIError`.
fn decode_uri(input: &str) -> Option<String> {
    const RESERVED: &[u8] = b";/?:@&=+$,#";
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let first = hex_byte(bytes, i)?;
        if first < 0x80 {
            if RESERVED.contains(&first) {
                out.extend_from_slice(&bytes[i..i + 3]);
            } else {
                out.push(first);
            }
            i += 3;
            continue;
        }
        let len = match first {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return None,
        };
        let mut sequence = vec![first];
        for k in 1..len {
            let byte = hex_byte(bytes, i + 3 * k)?;
            if byte & 0xC0 != 0x80 {
                return None;
            }
            sequence.push(byte);
        }
        // Rejects overlong forms and surrogates, as `decodeURI` does.
        std::str::from_utf8(&sequence).ok()?;
        out.extend_from_slice(&sequence);
        i += 3 * len;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, yes: &[&str], no: &[&str]) {
        let matcher = RouteMatcher::new([pattern]).unwrap();
        for path in yes {
            assert!(
                matcher.matches(path).unwrap(),
                "{pattern} should match {path}"
            );
        }
        for path in no {
            assert!(
                !matcher.matches(path).unwrap(),
                "{pattern} should not match {path}"
            );
        }
    }

    #[test]
    fn wildcard_suffix_groups() {
        check(
            "/dashboard(.*)",
            &[
                "/dashboard",
                "/dashboard/",
                "/dashboard/a/b",
                "/DASHBOARD/x",
                "/dashboards",
            ],
            &["/dash", "/x/dashboard", "/", ""],
        );
        check("/(.*)", &["/", "/anything/at/all"], &[""]);
        check(
            "/api/admin(.*)",
            &[
                "/api/admin",
                "/api/admin/users",
                "/api/%61dmin/users",
                "//api/admin//users",
            ],
            &[
                "/api/%62dmin/users",
                "/api%2Fadmin/users",
                "/other//api/admin",
            ],
        );
    }

    #[test]
    fn named_segments() {
        check(
            "/orgs/:slug",
            &["/orgs/acme", "/orgs/acme/", "/ORGS/Acme"],
            &["/orgs", "/orgs/", "/orgs/acme/members", "/orgsacme"],
        );
        check(
            "/orgs/:slug/(.*)",
            &["/orgs/acme/", "/orgs/acme/settings", "/orgs/acme/a/b/c"],
            &["/orgs/acme", "/orgs"],
        );
        check(
            "/api/v:version",
            &["/api/v2", "/api/v10/"],
            &["/api/v", "/api/v2/x"],
        );
        check("/:a-:b", &["/x-y", "/one-two"], &["/xy", "/x-"]);
        check(
            "/files/:name.:ext",
            &["/files/a.txt", "/files/a.b.txt"],
            &["/files/a", "/files/.txt"],
        );
    }

    #[test]
    fn modifiers_groups_and_custom_patterns() {
        check(
            "/user/:id?",
            &["/user", "/user/", "/user/1"],
            &["/user/1/2"],
        );
        check("/api/:path*", &["/api", "/api/a", "/api/a/b/c"], &["/apix"]);
        check("/api/:path+", &["/api/a", "/api/a/b"], &["/api", "/api/"]);
        check(
            "{/:lang}?/about",
            &["/about", "/en/about"],
            &["/en/fr/about"],
        );
        check("/user/:id(\\d+)", &["/user/42"], &["/user/abc", "/user/"]);
        check("/user/(\\d+)", &["/user/42"], &["/user/x"]);
        check("/foo\\(bar\\)", &["/foo(bar)"], &["/foobar"]);
        check(
            "/about",
            &["/about", "/about/", "/About"],
            &["/about/us", "/abou"],
        );
        check("/a.b", &["/a.b"], &["/axb"]);
    }

    #[test]
    fn several_patterns_and_empty_ones() {
        let matcher = RouteMatcher::new(["/foo", "", "/bar(.*)"]).unwrap();
        assert_eq!(matcher.patterns().len(), 2);
        for (path, expected) in [
            ("/foo", true),
            ("/bar", true),
            ("/bar/baz", true),
            ("/baz", false),
            ("/foo/bar", false),
        ] {
            assert_eq!(matcher.matches(path).unwrap(), expected, "{path}");
        }
        let empty = RouteMatcher::new(Vec::<String>::new()).unwrap();
        assert!(!empty.matches("/any").unwrap());
    }

    #[test]
    fn invalid_patterns_are_refused_like_path_to_regexp() {
        for (pattern, message) in [
            ("/:", "Missing parameter name"),
            ("/(", "Unbalanced pattern"),
            ("/()", "Missing pattern"),
            ("/((a))", "Capturing groups are not allowed"),
            ("/(?:a)", "Pattern cannot start with"),
            ("/a/*", "expected END"),
            ("/:a:b", "Must have text between two parameters"),
            ("(.*)*", "Can not repeat"),
            ("{/:a", "expected CLOSE"),
        ] {
            let error = PathPattern::new(pattern).unwrap_err();
            assert!(
                error.message.contains(message),
                "{pattern}: {}",
                error.message
            );
            assert!(RouteMatcher::new([pattern]).is_err());
        }
    }

    #[test]
    fn captures_name_parameters() {
        let pattern = PathPattern::new("/orgs/:slug/(.*)").unwrap();
        let params = pattern.captures("/orgs/acme/members").unwrap();
        assert_eq!(params["slug"], "acme");
        assert_eq!(params["0"], "members");
        assert!(pattern.captures("/users").is_none());
        let optional = PathPattern::new("/user/:id?").unwrap();
        assert!(optional.captures("/user").unwrap().is_empty());
        assert_eq!(pattern.as_str(), "/orgs/:slug/(.*)");
        assert!(pattern.regex().as_str().starts_with("(?i)^"));
    }

    #[test]
    fn normalisation_matches_decode_uri() {
        assert_eq!(normalize_path("/api/%61dmin").unwrap(), "/api/admin");
        assert_eq!(normalize_path("/%66oo/bar").unwrap(), "/foo/bar");
        for reserved in [
            "/api%2Fadmin",
            "/api/admin%3Fusers",
            "/api/admin%23section",
            "/a%2fb",
        ] {
            assert_eq!(normalize_path(reserved).unwrap(), reserved);
        }
        assert_eq!(normalize_path("///api//admin").unwrap(), "/api/admin");
        assert_eq!(normalize_path("/caf%C3%A9").unwrap(), "/café");
        assert_eq!(normalize_path("/%25").unwrap(), "/%");
        for bad in [
            "/api/%zz/users",
            "/%",
            "/%4",
            "/%C3",
            "/%C3%28",
            "/%ED%A0%80",
            "/%FF",
        ] {
            assert!(normalize_path(bad).is_err(), "{bad}");
            assert!(RouteMatcher::new(["/(.*)"]).unwrap().matches(bad).is_err());
        }
    }
}
