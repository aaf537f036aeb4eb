//! The official browser bundles, served from the Frontend API listener as Clerk's CDN serves
//! them: `/npm/@clerk/clerk-js@<version>/dist/<file>` and `/npm/@clerk/ui@<version>/dist/<file>`.
//!
//! The pinned npm tarballs in `vendor/npm/` are compiled into the binary; each set is unpacked
//! once, on first use, into memory. The version in the URL only chooses the major (the bundles
//! lazy-load their chunks under their exact version, so any version must work): `5…` is
//! clerk-js 5.x (Core 2 SDKs), anything else clerk-js 6.x; `@clerk/ui` has one set.
//! `scripts/update-bundles.sh` changes the versions: it rewrites the `pinned!` lines below.

use crate::common::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use flate2::read::GzDecoder;
use http::{header, HeaderValue, StatusCode};
use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

/// One pinned package version: its tarball and, once unpacked, its `dist/` files.
struct BundleSet {
    /// npm package name without the `@clerk/` scope.
    package: &'static str,
    /// Exact version of the tarball.
    version: &'static str,
    /// The tarball as `npm pack` wrote it.
    tarball: &'static [u8],
    /// `dist/` files by path relative to `dist/`, or why the tarball could not be read.
    files: OnceLock<Result<HashMap<String, Bytes>, String>>,
}

/// A set for `@clerk/<package>@<version>`, embedding `vendor/npm/clerk-<package>-<version>.tgz`.
macro_rules! pinned {
    ($package:literal, $version:literal) => {
        BundleSet {
            package: $package,
            version: $version,
            tarball: include_bytes!(concat!(
                "../../../../vendor/npm/clerk-",
                $package,
                "-",
                $version,
                ".tgz"
            )),
            files: OnceLock::new(),
        }
    };
}

// The pinned versions: one line per set, rewritten by scripts/update-bundles.sh.
static CLERK_JS_6: BundleSet = pinned!("clerk-js", "6.40.0");
static CLERK_JS_5: BundleSet = pinned!("clerk-js", "5.128.0");
static CLERK_UI_1: BundleSet = pinned!("ui", "1.34.0");

impl BundleSet {
    /// The unpacked files, unpacking the tarball on the first call.
    fn files(&self) -> Result<&HashMap<String, Bytes>, &str> {
        self.files
            .get_or_init(|| {
                unpack_dist(self.tarball).map_err(|err| {
                    let cause = format!(
                        "cannot unpack @clerk/{}@{}: {err}",
                        self.package, self.version
                    );
                    tracing::error!(cause = %cause, "bundle tarball unreadable");
                    cause
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

/// Reads a gzipped npm tarball and keeps the regular files under `package/dist/`.
fn unpack_dist(tarball: &[u8]) -> std::io::Result<HashMap<String, Bytes>> {
    let mut archive = tar::Archive::new(GzDecoder::new(tarball));
    let mut files = HashMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?;
        let Some(name) = path
            .to_str()
            .and_then(|p| p.strip_prefix("package/dist/"))
            .map(str::to_owned)
        else {
            continue;
        };
        let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry.read_to_end(&mut data)?;
        files.insert(name, Bytes::from(data));
    }
    Ok(files)
}

/// What a `/npm/…` path asks for.
#[derive(Debug)]
struct BundleRequest<'a> {
    set: &'static BundleSet,
    /// The version segment of the URL (may be empty, a major, a tag or an exact version).
    version: &'a str,
    /// Path relative to `dist/`.
    file: &'a str,
}

impl std::fmt::Debug for BundleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "@clerk/{}@{}", self.package, self.version)
    }
}

/// The leading digits of a version, after any range operator or `v` (`^5.1` → `5`).
fn major(version: &str) -> &str {
    let rest = version.trim_start_matches(['^', '~', '=', 'v', 'V']);
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Parses `@clerk/<package>[@<version>]/dist/<file>`; `None` for anything else.
fn parse(path: &str) -> Option<BundleRequest<'_>> {
    let rest = path.strip_prefix("@clerk/")?;
    let (name_and_version, rest) = rest.split_once('/')?;
    let file = rest.strip_prefix("dist/")?;
    let (package, version) = name_and_version
        .split_once('@')
        .unwrap_or((name_and_version, ""));
    let set = match package {
        "clerk-js" if major(version) == "5" => &CLERK_JS_5,
        "clerk-js" => &CLERK_JS_6,
        "ui" => &CLERK_UI_1,
        _ => return None,
    };
    let clean = !file.is_empty()
        && !file.contains('\\')
        && file
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    clean.then_some(BundleRequest { set, version, file })
}

/// The content type for a file name.
fn content_type(file: &str) -> &'static str {
    let extension = file.rsplit_once('.').map_or("", |(_, ext)| ext);
    match extension {
        "js" | "mjs" | "cjs" => "application/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "map" | "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// `GET`/`HEAD /npm/{*path}`: one file of a pinned bundle, or the 404 envelope.
pub async fn serve(path: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(path)) = path else {
        return ApiError::no_route().into_response();
    };
    let Some(request) = parse(&path) else {
        return ApiError::no_route().into_response();
    };
    let set = request.set;
    // Unpacking takes a moment: do it off the async workers, once.
    let files = match set.files.get() {
        Some(files) => files.as_ref().map_err(String::as_str),
        None => match tokio::task::spawn_blocking(move || set.files().map(|_| ())).await {
            Ok(Ok(())) => set.files(),
            Ok(Err(_)) | Err(_) => return ApiError::internal().into_response(),
        },
    };
    let Ok(files) = files else {
        return ApiError::internal().into_response();
    };
    let Some(bytes) = files.get(request.file) else {
        return ApiError::no_route().into_response();
    };
    let cache_control = if request.version == set.version {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let mut response = Response::new(Body::from(bytes.clone()));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(request.file)),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn picked(path: &str) -> (&'static str, &'static str, String) {
        let request = parse(path).unwrap();
        (
            request.set.package,
            request.set.version,
            request.file.to_owned(),
        )
    }

    #[test]
    fn bundles_parse_paths_and_pick_the_set() {
        assert_eq!(
            picked("@clerk/clerk-js@6/dist/clerk.browser.js"),
            ("clerk-js", CLERK_JS_6.version, "clerk.browser.js".into())
        );
        assert_eq!(
            picked("@clerk/clerk-js@5.99.0/dist/x.js").1,
            CLERK_JS_5.version
        );
        assert_eq!(picked("@clerk/clerk-js@5/dist/x.js").1, CLERK_JS_5.version);
        assert_eq!(
            picked("@clerk/clerk-js@^5.1.0/dist/x.js").1,
            CLERK_JS_5.version
        );
        for other in ["6.40.0", "latest", "6", "", "50.0.0", "snapshot"] {
            let path = format!("@clerk/clerk-js@{other}/dist/x.js");
            assert_eq!(picked(&path).1, CLERK_JS_6.version, "{path}");
        }
        assert_eq!(picked("@clerk/clerk-js/dist/x.js").1, CLERK_JS_6.version);
        assert_eq!(
            picked("@clerk/ui@1.34.0/dist/ui.browser.js"),
            ("ui", CLERK_UI_1.version, "ui.browser.js".into())
        );
        assert_eq!(
            picked("@clerk/ui@1/dist/themes/shadcn.css").2,
            "themes/shadcn.css"
        );
    }

    #[test]
    fn bundles_reject_other_paths() {
        for path in [
            "@clerk/clerk-js@6/dist/../package.json",
            "@clerk/clerk-js@6/dist/a/../../b.js",
            "@clerk/clerk-js@6/dist/./clerk.browser.js",
            "@clerk/clerk-js@6/dist//clerk.browser.js",
            "@clerk/clerk-js@6/dist/a\\b.js",
            "@clerk/clerk-js@6/dist/",
            "@clerk/clerk-js@6/package.json",
            "@clerk/clerk-js@6",
            "@clerk/backend@2/dist/index.js",
            "@clerk/clerk-react@5/dist/index.js",
            "@other/clerk-js@6/dist/clerk.browser.js",
            "clerk-js@6/dist/clerk.browser.js",
            "",
        ] {
            assert!(parse(path).is_none(), "{path}");
        }
    }

    #[test]
    fn bundles_content_types() {
        assert_eq!(
            content_type("clerk.browser.js"),
            "application/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("clerk.mjs"),
            "application/javascript; charset=utf-8"
        );
        assert_eq!(content_type("themes/shadcn.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("ui.browser.js.map"), "application/json");
        assert_eq!(content_type("types/index.d.ts"), "application/octet-stream");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }

    #[test]
    fn bundles_every_pinned_tarball_unpacks_with_its_entry_point() {
        for (set, entry) in [
            (&CLERK_JS_6, "clerk.browser.js"),
            (&CLERK_JS_5, "clerk.browser.js"),
            (&CLERK_UI_1, "ui.browser.js"),
        ] {
            let files = set.files().unwrap();
            let bytes = files
                .get(entry)
                .unwrap_or_else(|| panic!("{set:?} {entry}"));
            let text = std::str::from_utf8(bytes).unwrap();
            assert!(text.contains(set.version), "{set:?} names its version");
            assert!(files
                .keys()
                .all(|k| !k.starts_with('/') && !k.contains("..")));
        }
    }
}
