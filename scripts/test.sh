#!/usr/bin/env bash
# `make test`: install, start services, lint, type-check, check migrations, run the whole suite.
source "$(dirname "$0")/lib.sh"

bash "$ROOT/scripts/install.sh"
bash "$ROOT/scripts/services.sh" up
cd "$ROOT"
log "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
log "mypy"
"$VENV/bin/mypy"
log "web app: build (codegen, tsc), eslint, vitest"
bash "$ROOT/scripts/build_web.sh"
(cd "$ROOT/frontend" && npm run --silent lint && npm run --silent test -- --reporter=dot)
log "makemigrations --check"
"$PY" manage.py makemigrations --check --dry-run
log "pytest"
set +e
"$VENV/bin/pytest" "$@"
status=$?
set -e
# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
if ((status == 5)); then
  die "pytest collected no test"
fi
exit "$status"
