#!/usr/bin/env bash
# Replaces the pinned browser bundles that the Frontend API serves at /npm/@clerk/… (see
# vendor/npm/README.md). Each argument is <package>@<version or range>, package being clerk-js or
# ui (an @clerk/ prefix is allowed); a range resolves to the highest published version in it.
#   bash scripts/update-bundles.sh clerk-js@6.41.0 ui@1.35.0 clerk-js@5
# For each: npm pack, check the tarball against the registry's dist.integrity, replace the file in
# vendor/npm/, and rewrite the version in crates/concierge-http/src/fapi/bundles.rs (the pinned!
# line that embeds it), the end-to-end test, vendor/npm/README.md and README.md. The version's
# major must be one the server already has a set for (clerk-js 5 and 6, ui 1): a new major also
# needs a new pinned! line and its routing in bundles.rs.
set -euo pipefail
cd "$(dirname "$0")/.."

BUNDLES=crates/concierge-http/src/fapi/bundles.rs
E2E=crates/concierge-server/tests/it/bundles.rs
TABLE=vendor/npm/README.md

[ $# -gt 0 ] || { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Highest version in a JSON string or array of versions (prereleases last-resort, as npm does).
highest() {
  node -e '
    let v = JSON.parse(require("fs").readFileSync(0, "utf8"));
    v = (Array.isArray(v) ? v : [v]).map(String);
    const key = s => s.split(/[-+]/)[0].split(".").map(Number);
    v.sort((a, b) => { const x = key(a), y = key(b);
      for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
      return (a.includes("-") ? 0 : 1) - (b.includes("-") ? 0 : 1); });
    if (!v.length) process.exit(1);
    console.log(v[v.length - 1]);'
}

sri_sha512() {
  node -e '
    const data = require("fs").readFileSync(process.argv[1]);
    console.log("sha512-" + require("crypto").createHash("sha512").update(data).digest("base64"));' "$1"
}

for arg in "$@"; do
  spec=${arg#@clerk/}
  pkg=${spec%%@*}
  range=${spec#*@}
  [ "$range" != "$spec" ] && [ -n "$range" ] || { echo "$arg: expected <package>@<version>" >&2; exit 2; }
  case "$pkg" in
    clerk-js) const_pkg=JS ;;
    ui) const_pkg=UI ;;
    *) echo "$arg: only clerk-js and ui are served" >&2; exit 2 ;;
  esac

  version=$(npm view "@clerk/$pkg@$range" version --json 2>/dev/null | highest) \
    || { echo "$arg: no published version matches" >&2; exit 1; }
  major=${version%%.*}
  name="CLERK_${const_pkg}_${major}"
  line_re="pinned!(\"$pkg\", \"$major\.[^\"]*\")"
  [ "$(grep -c "$line_re" "$BUNDLES")" = 1 ] \
    || { echo "@clerk/$pkg $major.x is not a set in $BUNDLES: a new major needs code there" >&2; exit 1; }
  old=$(grep -o "$line_re" "$BUNDLES" | sed -E 's/.*, "([^"]*)"\)/\1/')

  echo "== @clerk/$pkg: $old -> $version"
  expected=$(npm view "@clerk/$pkg@$version" dist.integrity 2>/dev/null)
  (cd "$WORK" && npm pack "@clerk/$pkg@$version" --silent >/dev/null)
  file="clerk-$pkg-$version.tgz"
  [ -f "$WORK/$file" ] || { echo "npm pack did not write $file" >&2; exit 1; }
  actual=$(sri_sha512 "$WORK/$file")
  [ "$actual" = "$expected" ] \
    || { echo "integrity mismatch for $file: registry $expected, downloaded $actual" >&2; exit 1; }

  [ "$old" = "$version" ] || rm -f "vendor/npm/clerk-$pkg-$old.tgz"
  mv "$WORK/$file" "vendor/npm/$file"

  sed -i -E "s/^(static $name: BundleSet = pinned!\(\"$pkg\", \")[^\"]*(\"\);)$/\1$version\2/" "$BUNDLES"
  sed -i -E "s/^(const $name: &str = \")[^\"]*(\";)$/\1$version\2/" "$E2E"
  sed -i -E "s#^\| \`@clerk/$pkg\` \| $major\.[^ |]* \| [^ |]* \|#| \`@clerk/$pkg\` | $version | $expected |#" "$TABLE"
  sed -i -E "s#\`@clerk/$pkg@$major\.[0-9][^\`]*\`#\`@clerk/$pkg@$version\`#g" README.md
  grep -q "^static $name: BundleSet = pinned!(\"$pkg\", \"$version\");" "$BUNDLES" \
    && grep -q "^const $name: &str = \"$version\";" "$E2E" \
    && grep -q "^| \`@clerk/$pkg\` | $version | $expected |" "$TABLE" \
    || { echo "could not rewrite the version of $name everywhere; fix by hand" >&2; exit 1; }
done

du -sh vendor/npm
echo "Now run: cargo test -p concierge-http bundles && cargo test -p concierge-server --test it bundles"
