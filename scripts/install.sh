#!/usr/bin/env bash
# Installs what the project needs and is missing; a second run only checks and returns.
#   scripts/install.sh            everything
#   scripts/install.sh python     only the virtualenv
source "$(dirname "$0")/lib.sh"

install_python() {
  # Reinstall only when the dependency files change.
  local stamp="$VENV/.installed" want
  want="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" | sha256sum | cut -c1-16)"
  if [[ -x "$PY" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  command -v python3.11 >/dev/null || command -v python3 >/dev/null || die "Python 3.11 is required"
  local python
  python="$(command -v python3.11 || command -v python3)"
  "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || die "$python is not Python 3.11"
  log "installing Python dependencies into .venv"
  [[ -x "$PY" ]] || "$python" -m venv "$VENV"
  local pip_log="$RUN_DIR/logs/pip.log"
  { "$PY" -m pip install --upgrade pip &&
    "$PY" -m pip install -c "$ROOT/requirements.lock" -e "$ROOT[dev]"; } >"$pip_log" 2>&1 ||
    { tail -30 "$pip_log"; die "pip install failed (full log: $pip_log)"; }
  echo "$want" >"$stamp"
}

install_debian() {
  local pkgs=()
  is_managed DATABASE_URL && pkgs+=(postgresql)
  is_managed REDIS_URL && pkgs+=(redis-server)
  if is_managed ELASTICSEARCH_URL; then
    command -v java >/dev/null || pkgs+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || pkgs+=(maven)
  fi
  if is_managed STRIPE_API_BASE; then
    command -v go >/dev/null || pkgs+=(golang-go)
  fi
  ((${#pkgs[@]})) && apt_install "${pkgs[@]}"
  return 0
}

install_elasticsearch() {
  is_managed ELASTICSEARCH_URL || return 0
  local home="$CACHE_DIR/elasticsearch-$ES_VERSION"
  [[ -x "$home/bin/elasticsearch" ]] && return 0
  # The minimal (server-only) distribution that Elastic publishes on Maven Central.
  local artifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip"
  log "fetching Elasticsearch $ES_VERSION with Maven ($artifact)"
  mvn -q -B dependency:get -Dartifact="$artifact" -Dtransitive=false >"$RUN_DIR/logs/maven.log" 2>&1 ||
    { tail -20 "$RUN_DIR/logs/maven.log"; die "Maven could not fetch $artifact"; }
  local repo zip
  repo="$(mvn -q -B help:evaluate -Dexpression=settings.localRepository -DforceStdout 2>/dev/null || true)"
  [[ -d "$repo" ]] || repo="$HOME/.m2/repository"
  zip="$repo/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ES_VERSION/elasticsearch-$ES_VERSION.zip"
  [[ -f "$zip" ]] || die "Maven reported success but $zip is missing"
  local tmp
  tmp="$(mktemp -d "$CACHE_DIR/.es-XXXXXX")"
  python3 -m zipfile -e "$zip" "$tmp"
  chmod +x "$tmp/elasticsearch-$ES_VERSION/bin/"*
  chmod -R a+rX "$tmp"
  mv "$tmp/elasticsearch-$ES_VERSION" "$home"
  rmdir "$tmp"
}

install_stripe_mock() {
  is_managed STRIPE_API_BASE || return 0
  local bin="$CACHE_DIR/bin/stripe-mock-$STRIPE_MOCK_VERSION"
  [[ -x "$bin" ]] && return 0
  log "building stripe-mock $STRIPE_MOCK_VERSION with go install"
  local gobin
  gobin="$(mktemp -d "$CACHE_DIR/.gobin-XXXXXX")"
  GOBIN="$gobin" go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" >"$RUN_DIR/logs/go-install.log" 2>&1 ||
    { tail -20 "$RUN_DIR/logs/go-install.log"; die "go install stripe-mock failed"; }
  mkdir -p "$CACHE_DIR/bin"
  mv "$gobin/stripe-mock" "$bin"
  rmdir "$gobin"
}

install_browser() {
  # The browser tests drive Debian's Chromium (never a downloaded browser); Noto CJK renders Korean.
  apt_install chromium fonts-noto-cjk
}

install_node() {
  # The web app's packages, exactly as package-lock.json pins them; again only when the lock changes.
  command -v npm >/dev/null || apt_install nodejs npm
  local dir="$ROOT/frontend" stamp="$ROOT/frontend/node_modules/.installed" want
  want="$(sha256sum "$dir/package-lock.json" | cut -c1-16)"
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && return 0
  log "installing the web app's npm packages"
  (cd "$dir" && npm ci --no-audit --no-fund >"$RUN_DIR/logs/npm.log" 2>&1) ||
    { tail -30 "$RUN_DIR/logs/npm.log"; die "npm ci failed (full log: $RUN_DIR/logs/npm.log)"; }
  echo "$want" >"$stamp"
}

case "${1:-all}" in
  python) install_python ;;
  node) install_node ;;
  all)
    install_debian
    install_python
    install_elasticsearch
    install_stripe_mock
    install_node
    install_browser
    ;;
  *) die "usage: $0 [all|python|node]" ;;
esac
