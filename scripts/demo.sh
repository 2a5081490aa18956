#!/usr/bin/env bash
# `make demo`: install what is missing, start the services, migrate, load the real demo data, serve.
source "$(dirname "$0")/lib.sh"

bash "$ROOT/scripts/install.sh"
bash "$ROOT/scripts/services.sh" up
cd "$ROOT"
log "migrating the database"
"$PY" manage.py migrate --no-input -v0
bash "$ROOT/scripts/load_demo_data.sh"
bash "$ROOT/scripts/build_web.sh"
bash "$ROOT/scripts/services.sh" up web
health="$(curl -s "http://127.0.0.1:$APP_PORT/healthz" || true)"
cat <<MSG

  The marketplace is running:  http://127.0.0.1:$APP_PORT/   (web app, Korean and English)
    Admin (operators):         http://127.0.0.1:$APP_PORT/admin/
    GraphQL (GraphiQL):        http://127.0.0.1:$APP_PORT/graphql/
    Health:                    http://127.0.0.1:$APP_PORT/healthz  ->  $health
  Logs are under $RUN_DIR; \`make down\` stops everything.

MSG
