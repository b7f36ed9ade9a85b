#!/usr/bin/env bash
# Refresh the vendored front-end assets from the npm registry (run by hand, not by `make install`).
#
# frontend/package.json pins the versions and frontend/package-lock.json their integrity hashes;
# `npm ci` installs exactly those into frontend/node_modules (gitignored). This script then copies
# only what the pages load -- compiled CSS, JS, and the fonts and images the CSS points at -- into
# the package's static folder, and axe-core into the browser tests. The copies are committed, so a
# fresh clone needs no npm and no page ever loads anything from another site.
#
# To upgrade: edit the versions in frontend/package.json, `cd frontend && npm install
# --package-lock-only`, run this script, run the browser tests, commit the lot.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
modules="$root/frontend/node_modules"
static="$root/src/ethica/service/web/static"
tests="$root/tests/browser/vendor"

(cd "$root/frontend" && npm ci --ignore-scripts --no-audit --no-fund)

# USWDS: the compiled stylesheet and script, and every font or image the stylesheet refers to.
uswds="$modules/@uswds/uswds/dist"
rm -rf "$static/uswds"
mkdir -p "$static/uswds/css" "$static/uswds/js"
cp "$uswds/css/uswds.min.css" "$static/uswds/css/"
cp "$uswds/js/uswds.min.js" "$static/uswds/js/"
grep -o 'url([^)]*)' "$uswds/css/uswds.min.css" | sed -e 's/^url(//' -e 's/)$//' -e "s/[\"']//g" |
  grep '^\.\./' | sort -u | while read -r asset; do
    mkdir -p "$(dirname "$static/uswds/css/$asset")"
    cp "$uswds/css/$asset" "$static/uswds/css/$asset"
  done
cp "$modules/@uswds/uswds/LICENSE.md" "$static/uswds/LICENSE.md"

# Swagger UI for /docs: the bundle and its stylesheet.
rm -rf "$static/swagger-ui"
mkdir -p "$static/swagger-ui"
cp "$modules/swagger-ui-dist/"{swagger-ui-bundle.js,swagger-ui.css,LICENSE} "$static/swagger-ui/"

# axe-core, injected into every page by the browser tests (never served by the service).
mkdir -p "$tests"
cp "$modules/axe-core/"{axe.min.js,LICENSE} "$tests/"

{
  echo "# Written by scripts/vendor_frontend.sh from frontend/package-lock.json; do not edit."
  for package in @uswds/uswds swagger-ui-dist axe-core; do
    echo "$package $(node -p "require('$modules/$package/package.json').version")"
  done
} > "$static/VENDORED.txt"
echo "vendored into $static and $tests"
