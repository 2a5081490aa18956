#!/usr/bin/env bash
# `make bench-search`: install what is missing, start PostgreSQL, Redis and Elasticsearch, then run the search
# benchmark (scripts/bench_search.py; arguments pass through). Writes .bench/search.json.
source "$(dirname "$0")/lib.sh"

bash "$ROOT/scripts/install.sh"
bash "$ROOT/scripts/services.sh" up postgres redis elasticsearch
cd "$ROOT"
exec "$PY" scripts/bench_search.py "$@"
