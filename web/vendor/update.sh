#!/usr/bin/env bash
# Refreshes the vendored front-end assets from the npm registry: Swagger UI
# and ReDoc for the API docs pages, uPlot for the web console's charts.
#
#   web/vendor/update.sh [SWAGGER_UI_DIST_VERSION] [REDOC_VERSION] [UPLOT_VERSION]
#
# It uses `npm pack`, which fetches a package's published tarball without
# installing its dependencies (the files we keep are self-contained bundles),
# checks the tarball against the integrity hash the registry publishes, keeps
# only the files the pages load plus the licence files, and records the
# versions and hashes in VERSIONS. Commit the result; nothing is downloaded
# at build or run time.
set -euo pipefail

swagger_version=${1:-5.35.0}
redoc_version=${2:-2.5.4}
uplot_version=${3:-1.6.32}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() { # name version -> extracted folder on stdout
	local name=$1 version=$2 tgz want got
	tgz=$(cd "$tmp" && npm pack --silent "$name@$version")
	want=$(npm view "$name@$version" dist.integrity)
	got="sha512-$(openssl dgst -sha512 -binary "$tmp/$tgz" | base64 -w0)"
	if [ "$want" != "$got" ]; then
		echo "integrity mismatch for $name@$version: registry $want, tarball $got" >&2
		exit 1
	fi
	mkdir -p "$tmp/$name"
	tar -xzf "$tmp/$tgz" -C "$tmp/$name"
	echo "$name@$version $want" >>"$tmp/VERSIONS"
	echo "$tmp/$name/package"
}

sw=$(fetch swagger-ui-dist "$swagger_version")
rd=$(fetch redoc "$redoc_version")
up=$(fetch uplot "$uplot_version")

rm -rf "$here/swagger-ui-dist" "$here/redoc" "$here/uplot"
mkdir -p "$here/swagger-ui-dist" "$here/redoc" "$here/uplot"
cp "$sw/swagger-ui-bundle.js" "$sw/swagger-ui.css" "$sw/LICENSE" "$sw/favicon-32x32.png" "$here/swagger-ui-dist/"
cp "$sw/swagger-ui-bundle.js.LICENSE.txt" "$sw/NOTICE" "$here/swagger-ui-dist/" 2>/dev/null || true
cp "$rd/bundles/redoc.standalone.js" "$rd/LICENSE" "$here/redoc/"
cp "$rd"/bundles/*.LICENSE.txt "$here/redoc/" 2>/dev/null || true
# uPlot: the IIFE build (defines the global uPlot) and its stylesheet. It sets
# styles only through element.style, which the console's CSP allows.
cp "$up/dist/uPlot.iife.min.js" "$up/dist/uPlot.min.css" "$up/LICENSE" "$here/uplot/"
# ReDoc's sidebar shows a logo it loads from Redocly's CDN: point it at an
# inline SVG so the page makes no outside request (the CSP would block it).
logo="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='60' height='14'%3E%3Ctext x='0' y='11' font-family='sans-serif' font-size='11' fill='%23555'%3ERedocly%3C/text%3E%3C/svg%3E"
sed -i "s|https://cdn.redoc.ly/redoc/logo-mini.svg|$logo|g" "$here/redoc/redoc.standalone.js"
if grep -q 'https://cdn\.' "$here/redoc/redoc.standalone.js"; then
	echo "redoc.standalone.js still names a CDN; check the patch above" >&2
	exit 1
fi
# Source maps point at files we do not ship; drop the reference.
sed -i '/^\/\/# sourceMappingURL=/d' "$here/swagger-ui-dist/swagger-ui-bundle.js" "$here/redoc/redoc.standalone.js" "$here/uplot/uPlot.iife.min.js"

{
	echo "# Vendored from the npm registry by web/vendor/update.sh on $(date -u +%F)."
	echo "# package@version integrity (as published by the registry, checked against the tarball)"
	echo "# Local change: redoc.standalone.js's CDN logo URL replaced by an inline SVG (see update.sh)."
	cat "$tmp/VERSIONS"
} >"$here/VERSIONS"
ls -la "$here/swagger-ui-dist" "$here/redoc" "$here/uplot"
