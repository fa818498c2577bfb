#!/usr/bin/env bash
# Re-fetch the pinned GraphiQL browser assets from the npm registry into
# app/api/static/graphiql/, so the GraphiQL page works with no internet.
#
# Idempotent: the same pins give the same files. To upgrade, change a version,
# run once, copy the new integrity from the error it prints into the pin, run
# again, then update the versions in app/api/static/graphiql/README.md.
# Needs npm (and so node); nothing else is installed or left behind.
set -euo pipefail

GRAPHIQL_VERSION=3.9.0 # the last line with UMD builds (graphiql.min.js)
REACT_VERSION=18.3.1   # React 19 ships no UMD builds

# Tarball integrity as published on the registry (npm view <pkg>@<v> dist.integrity).
declare -A INTEGRITY=(
    [graphiql]=sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA==
    [react]=sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==
    [react-dom]=sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==
)
declare -A VERSION=([graphiql]=$GRAPHIQL_VERSION [react]=$REACT_VERSION [react-dom]=$REACT_VERSION)

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/app/api/static/graphiql"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for pkg in graphiql react react-dom; do
    spec="$pkg@${VERSION[$pkg]}"
    tarball="$(cd "$work" && npm pack --silent "$spec" | tail -n 1)"
    actual="$(node -e '
        const data = require("fs").readFileSync(process.argv[1]);
        const hash = require("crypto").createHash("sha512").update(data).digest("base64");
        console.log("sha512-" + hash);
    ' "$work/$tarball")"
    if [ "$actual" != "${INTEGRITY[$pkg]}" ]; then
        echo "$spec: integrity $actual does not match the pin ${INTEGRITY[$pkg]}" >&2
        exit 1
    fi
    mkdir "$work/$pkg"
    tar -xzf "$work/$tarball" -C "$work/$pkg" --strip-components=1
done

mkdir -p "$dest"
cp "$work/graphiql/graphiql.min.js" "$work/graphiql/graphiql.min.css" "$dest/"
cp "$work/react/umd/react.production.min.js" "$dest/"
cp "$work/react-dom/umd/react-dom.production.min.js" "$dest/"
cp "$work/graphiql/LICENSE" "$dest/LICENSE.graphiql"
cp "$work/react/LICENSE" "$dest/LICENSE.react"
cp "$work/react-dom/LICENSE" "$dest/LICENSE.react-dom"

# Make the copies self-contained: no source-map comments (the maps are not
# vendored, so devtools would ask our server for them and get a 404), and no
# stylesheet or font loaded from another host. graphiql 3.9.0 inlines its fonts
# as data: URLs, so the CSS rewrites below change nothing today; they guard a
# future version. A font dropped here falls back to the next family in the
# stack (system fonts).
node - "$dest" <<'JS'
const fs = require("fs");
const path = require("path");
const dest = process.argv[2];
const external = String.raw`(?:https?:)?//`;

for (const name of ["graphiql.min.js", "react.production.min.js", "react-dom.production.min.js"]) {
    const file = path.join(dest, name);
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, text.replace(/\n?\/\/# sourceMappingURL=\S*\s*$/, "\n"));
}

const cssFile = path.join(dest, "graphiql.min.css");
let css = fs.readFileSync(cssFile, "utf8");
css = css.replace(/\/\*# sourceMappingURL=[^*]*\*\//g, "");
css = css.replace(new RegExp(String.raw`@import\s+(?:url\()?\s*["']?${external}[^;]*;`, "gi"), "");
css = css.replace(
    new RegExp(String.raw`@font-face\s*\{[^}]*url\(\s*["']?${external}[^}]*\}`, "gi"),
    "",
);
const left = css.match(new RegExp(String.raw`url\(\s*["']?${external}[^)]*\)|@import[^;]*;`, "gi"));
if (left) {
    console.error("graphiql.min.css still loads from outside: " + left.join(", "));
    process.exit(1);
}
fs.writeFileSync(cssFile, css);
JS

echo "vendored graphiql@$GRAPHIQL_VERSION, react@$REACT_VERSION, react-dom@$REACT_VERSION into ${dest#"$root"/}"
