#!/usr/bin/env bash
# Starts, stops and reports the local services on 127.0.0.1.
#   scripts/services.sh up [service...]     start what is not running (reuses running ones)
#   scripts/services.sh down                stop what these scripts started
#   scripts/services.sh status
# Services: postgres redis elasticsearch stripe-mock celery celery-embeddings web
# A service whose URL variable points somewhere other than the local default is not started here: we only
# check that it answers. Whatever runs and answers on our port is reused; `down` stops only what has a pid
# file of ours under .run/.
source "$(dirname "$0")/lib.sh"

ES_TRANSPORT_PORT=$((ES_PORT + 100))

# --- PostgreSQL ----------------------------------------------------------------------------------------
pg_bin() { find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1; }

up_postgres() {
  local host port
  host="$(url_host "$DATABASE_URL")"; port="$(url_port "$DATABASE_URL" 5432)"
  if ! is_managed DATABASE_URL; then
    wait_for "PostgreSQL at $host:$port" 30 port_open "$host" "$port" || die "DATABASE_URL does not answer"
    return 0
  fi
  local dir="$RUN_DIR/postgres" bin
  bin="$(pg_bin)"
  [[ -n "$bin" ]] || die "PostgreSQL is not installed (scripts/install.sh installs it)"
  if port_open 127.0.0.1 "$PG_PORT"; then
    log "PostgreSQL already answers on $PG_PORT: reusing it"
  else
    mkdir -p "$dir"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      log "creating a PostgreSQL cluster in $dir/data"
      ensure_system_user postgres
      is_root && chown postgres "$dir"
      # Local-only development password; the URL in scripts/defaults.env carries the same value.
      echo "ipmarket" >"$dir/pwfile"
      is_root && chown postgres "$dir/pwfile"
      as_user postgres "$bin/initdb" -D "$dir/data" -U ipmarket --pwfile="$dir/pwfile" \
        --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log"; die "initdb failed"; }
      rm -f "$dir/pwfile"
    fi
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_user postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgresql.log" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null || { tail -20 "$dir/postgresql.log"; die "PostgreSQL did not start"; }
    touch "$dir/.ours"
  fi
  # The application database (the test database is created by pytest-django).
  local admin_url="${DATABASE_URL%/*}/postgres" db="${DATABASE_URL##*/}"
  if ! psql "$admin_url" -tAc "select 1 from pg_database where datname='$db'" | grep -q 1; then
    psql "$admin_url" -qc "create database \"$db\"" >/dev/null
  fi
}

down_postgres() {
  local dir="$RUN_DIR/postgres"
  [[ -f "$dir/.ours" && -f "$dir/data/postmaster.pid" ]] || return 0
  log "stopping PostgreSQL"
  as_user postgres "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  rm -f "$dir/.ours"
}

# --- Redis ---------------------------------------------------------------------------------------------
up_redis() {
  local host port
  host="$(url_host "$REDIS_URL")"; port="$(url_port "$REDIS_URL" 6379)"
  if ! is_managed REDIS_URL; then
    wait_for "Redis at $host:$port" 30 port_open "$host" "$port" || die "REDIS_URL does not answer"
    return 0
  fi
  local dir="$RUN_DIR/redis"
  if port_open 127.0.0.1 "$REDIS_PORT"; then
    log "Redis already answers on $REDIS_PORT: reusing it"
    return 0
  fi
  mkdir -p "$dir"
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no
  wait_for "Redis" 30 redis-cli -p "$REDIS_PORT" ping || { tail "$dir/redis.log"; die "Redis did not start"; }
}

down_redis() {
  local pidf="$RUN_DIR/redis/redis.pid"
  pid_alive "$pidf" || return 0
  log "stopping Redis"
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$pidf")"
  rm -f "$pidf"
}

# --- Elasticsearch -------------------------------------------------------------------------------------
es_healthy() { curl -fsS "$1/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null; }

up_elasticsearch() {
  if ! is_managed ELASTICSEARCH_URL; then
    wait_for "Elasticsearch at $ELASTICSEARCH_URL" 60 es_healthy "$ELASTICSEARCH_URL" ||
      die "ELASTICSEARCH_URL does not answer"
    return 0
  fi
  local url="http://127.0.0.1:$ES_PORT" dir="$RUN_DIR/elasticsearch"
  local home="$CACHE_DIR/elasticsearch-$ES_VERSION"
  if port_open 127.0.0.1 "$ES_PORT"; then
    log "Elasticsearch already answers on $ES_PORT: reusing it"
  else
    [[ -x "$home/bin/elasticsearch" ]] || die "Elasticsearch is not installed (scripts/install.sh installs it)"
    ensure_system_user elasticsearch
    mkdir -p "$dir/data" "$dir/logs" "$dir/tmp"
    rm -rf "$dir/config"
    cp -r "$home/config" "$dir/config"
    cat >"$dir/config/elasticsearch.yml" <<EOF
# Written by scripts/services.sh on every start.
cluster.name: ipmarket-dev
node.name: ipmarket-1
path.data: $dir/data
path.logs: $dir/logs
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
discovery.type: single-node
xpack.security.enabled: false
# Development disks can be nearly full; do not turn indices read-only for that.
cluster.routing.allocation.disk.threshold_enabled: false
EOF
    # 24 GiB machine: 2 GiB of heap leaves the rest to the page cache (Lucene), PostgreSQL and Python.
    printf -- '-Xms%s\n-Xmx%s\n' "${ES_HEAP:-2g}" "${ES_HEAP:-2g}" >"$dir/config/jvm.options.d/heap.options"
    is_root && chown -R elasticsearch "$dir"
    local java_home
    java_home="${ES_JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
    log "starting Elasticsearch $ES_VERSION on 127.0.0.1:$ES_PORT"
    as_user elasticsearch env ES_PATH_CONF="$dir/config" ES_JAVA_HOME="$java_home" ES_TMPDIR="$dir/tmp" \
      "$home/bin/elasticsearch" -d -p "$dir/es.pid" >"$RUN_DIR/logs/elasticsearch-start.log" 2>&1 ||
      { cat "$RUN_DIR/logs/elasticsearch-start.log"; tail -30 "$dir/logs/ipmarket-dev.log" 2>/dev/null
        die "Elasticsearch did not start"; }
  fi
  wait_for "Elasticsearch" 180 es_healthy "$url" ||
    { tail -30 "$dir/logs/ipmarket-dev.log" 2>/dev/null; die "Elasticsearch did not become healthy"; }
}

stop_pidfile() {
  # stop_pidfile <name> <pidfile> [seconds]
  local name="$1" pidf="$2" secs="${3:-30}"
  pid_alive "$pidf" || { rm -f "$pidf"; return 0; }
  log "stopping $name"
  local pid
  pid="$(cat "$pidf")"
  kill "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + secs))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then kill -9 "$pid" 2>/dev/null || true; break; fi
    sleep 0.3
  done
  rm -f "$pidf"
}

down_elasticsearch() { stop_pidfile Elasticsearch "$RUN_DIR/elasticsearch/es.pid" 60; }

# --- stripe-mock ---------------------------------------------------------------------------------------
stripe_answers() { curl -fsS -u "$STRIPE_SECRET_KEY:" "$1/v1/balance" >/dev/null; }

up_stripe_mock() {
  if ! is_managed STRIPE_API_BASE; then
    wait_for "Stripe API at $STRIPE_API_BASE" 30 stripe_answers "$STRIPE_API_BASE" || die "STRIPE_API_BASE does not answer"
    return 0
  fi
  local dir="$RUN_DIR/stripe-mock" bin="$CACHE_DIR/bin/stripe-mock-$STRIPE_MOCK_VERSION"
  if port_open 127.0.0.1 "$STRIPE_MOCK_PORT"; then
    log "stripe-mock already answers on $STRIPE_MOCK_PORT: reusing it"
    return 0
  fi
  [[ -x "$bin" ]] || die "stripe-mock is not installed (scripts/install.sh installs it)"
  mkdir -p "$dir"
  log "starting stripe-mock $STRIPE_MOCK_VERSION on 127.0.0.1:$STRIPE_MOCK_PORT"
  nohup "$bin" -http-addr "127.0.0.1:$STRIPE_MOCK_PORT" -https-addr "127.0.0.1:$STRIPE_MOCK_HTTPS_PORT" \
    </dev/null >"$dir/stripe-mock.log" 2>&1 &
  echo $! >"$dir/stripe-mock.pid"
  wait_for "stripe-mock" 30 stripe_answers "http://127.0.0.1:$STRIPE_MOCK_PORT" ||
    { tail "$dir/stripe-mock.log"; die "stripe-mock did not start"; }
}

down_stripe_mock() { stop_pidfile stripe-mock "$RUN_DIR/stripe-mock/stripe-mock.pid"; }

# --- Celery worker -------------------------------------------------------------------------------------
# Our own code: restarted on every `up` so that it never runs stale code. `--beat` runs the scheduler of
# periodic tasks (backend/celery.py) inside this one worker: there must be exactly one beat, and the demo
# has one worker. A deployment with several workers runs `celery -A backend beat` once, separately.
up_celery() {
  local dir="$RUN_DIR/celery"
  mkdir -p "$dir"
  down_celery
  log "starting the Celery worker (with beat)"
  (cd "$ROOT" && "$VENV/bin/celery" -A backend worker -Q celery --loglevel=INFO --concurrency=2 \
    --beat --schedule="$dir/celerybeat-schedule" \
    --hostname="ipmarket@%h" --detach --pidfile="$dir/worker.pid" --logfile="$dir/worker.log")
  wait_for "Celery worker" 60 pid_alive "$dir/worker.pid" || { tail "$dir/worker.log"; die "Celery did not start"; }
}

down_celery() { stop_pidfile "the Celery worker" "$RUN_DIR/celery/worker.pid"; }

# A second worker for the "embeddings" queue only (CELERY_TASK_ROUTES in backend/settings.py): encoding
# texts takes seconds per batch on CPU, so it gets a worker of its own, one task at a time, and the default
# queue above never waits behind it. The model loads lazily in the pool's child, after the fork.
up_celery_embeddings() {
  local dir="$RUN_DIR/celery"
  mkdir -p "$dir"
  down_celery_embeddings
  log "starting the Celery worker of the embeddings queue"
  (cd "$ROOT" && "$VENV/bin/celery" -A backend worker -Q embeddings --loglevel=INFO --concurrency=1 \
    --hostname="ipmarket-embeddings@%h" --detach --pidfile="$dir/embeddings-worker.pid" \
    --logfile="$dir/embeddings-worker.log")
  wait_for "Celery embeddings worker" 60 pid_alive "$dir/embeddings-worker.pid" ||
    { tail "$dir/embeddings-worker.log"; die "the Celery embeddings worker did not start"; }
}

down_celery_embeddings() { stop_pidfile "the Celery embeddings worker" "$RUN_DIR/celery/embeddings-worker.pid"; }

# --- web server (ASGI) ---------------------------------------------------------------------------------
up_web() {
  local dir="$RUN_DIR/web"
  mkdir -p "$dir"
  down_web
  if port_open 127.0.0.1 "$APP_PORT"; then
    die "port $APP_PORT is taken by another program; set APP_PORT to use another one"
  fi
  log "starting the ASGI server on http://127.0.0.1:$APP_PORT/"
  # Started directly (no subshell) so that $! is the server itself and nothing holds our stdout open.
  cd "$ROOT"
  nohup "$VENV/bin/uvicorn" backend.asgi:application --host 127.0.0.1 --port "$APP_PORT" \
    --no-access-log </dev/null >"$dir/server.log" 2>&1 &
  echo $! >"$dir/server.pid"
  wait_for "the ASGI server" 60 curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/graphql/?query=%7B__typename%7D" ||
    { tail -30 "$dir/server.log"; die "the ASGI server did not start"; }
}

down_web() { stop_pidfile "the ASGI server" "$RUN_DIR/web/server.pid"; }

# -------------------------------------------------------------------------------------------------------
ALL=(postgres redis elasticsearch stripe_mock celery celery_embeddings)

status() {
  local name pidf
  for name in postgres:postgres/data/postmaster.pid redis:redis/redis.pid elasticsearch:elasticsearch/es.pid \
    stripe-mock:stripe-mock/stripe-mock.pid celery:celery/worker.pid \
    celery-embeddings:celery/embeddings-worker.pid web:web/server.pid; do
    pidf="$RUN_DIR/${name#*:}"
    if [[ -f "$pidf" ]] && kill -0 "$(head -1 "$pidf")" 2>/dev/null; then
      printf '%-18s running (pid %s)\n' "${name%%:*}" "$(head -1 "$pidf")"
    else
      printf '%-18s not started here\n' "${name%%:*}"
    fi
  done
}

cmd="${1:-up}"; shift || true
case "$cmd" in
  up)
    targets=("$@"); ((${#targets[@]})) || targets=("${ALL[@]}")
    for s in "${targets[@]}"; do "up_${s//-/_}"; done
    ;;
  down)
    targets=("$@"); ((${#targets[@]})) || targets=("${ALL[@]}" web)
    for ((i = ${#targets[@]} - 1; i >= 0; i--)); do s="${targets[$i]}"; "down_${s//-/_}"; done
    ;;
  status) status ;;
  *) die "usage: $0 up|down|status [service...]" ;;
esac
