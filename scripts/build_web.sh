#!/usr/bin/env bash
# `make web`: generate the GraphQL types from schema.graphql, type-check and build frontend/ into
# frontend/dist (served by Django at /), and gzip the assets for WhiteNoise. Skipped when nothing changed.
source "$(dirname "$0")/lib.sh"

bash "$ROOT/scripts/install.sh" node
cd "$ROOT/frontend"
stamp="dist/.built"
want="$(cat "$ROOT/schema.graphql" package-lock.json index.html vite.config.ts tsconfig.json \
  $(find src scripts -type f ! -path 'src/gql/*' | sort) | sha256sum | cut -c1-16)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && "${1:-}" != "--force" ]]; then
  exit 0
fi
log "building the web app"
npm run --silent build >"$RUN_DIR/logs/web-build.log" 2>&1 ||
  { tail -40 "$RUN_DIR/logs/web-build.log"; die "the web app's build failed (full log: $RUN_DIR/logs/web-build.log)"; }
# Precompressed copies: WhiteNoise sends them to clients that accept gzip.
"$PY" -m whitenoise.compress --no-brotli dist >/dev/null
echo "$want" >"$stamp"
