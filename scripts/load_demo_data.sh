#!/usr/bin/env bash
# Loads the real patent records from ../shared/data (read-only), then generates the demo actors and deals
# around them. Idempotent: a second run only confirms.
source "$(dirname "$0")/lib.sh"

DATA_DIR="${IPMARKET_DATA_DIR:-$ROOT/../shared/data}"
[[ -d "$DATA_DIR" ]] || die "demo data not found at $DATA_DIR (clone the project beside shared/, or set IPMARKET_DATA_DIR)"
cd "$ROOT"
log "importing Korean university patents (KIPRIS)"
"$PY" manage.py import_patents --format kipris-csv "$DATA_DIR/kr_university_patents_inu.csv"
log "importing NASA licensable inventions"
"$PY" manage.py import_patents --format nasa-csv "$DATA_DIR/us_nasa_licensable_patents_2014.csv"
# Generated buyers, brokers, listings, demands and deals around the real patents, all marked is_generated.
# Idempotent: a second run reports "already generated"; `manage.py generate_demo_data --reset` regenerates.
log "generating demo organisations, users, listings, demands and deals (marked as generated)"
"$PY" manage.py generate_demo_data
# Search indices: rebuilt from PostgreSQL when they differ from it (ids and counts); vectors come from the
# cache, and texts without one are queued to the embeddings worker, which re-indexes them when encoded.
log "checking the search indices against PostgreSQL"
if ! "$PY" manage.py search_index check >/dev/null 2>&1; then
  log "building the search indices (zero downtime; \`make reindex\` forces a rebuild)"
  "$PY" manage.py search_index rebuild
fi
