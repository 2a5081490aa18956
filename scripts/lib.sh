# Shared helpers for the scripts in this folder. Source it; do not run it.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# Defaults first, then whatever the caller exported wins.
_load_defaults() {
  local line key value
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    key="${line%%=*}"
    value="${line#*=}"
    if [[ -z "${!key:-}" ]]; then
      export "$key=$value"
    fi
  done <"$ROOT/scripts/defaults.env"
}
_load_defaults

# Data and logs of every service live under one git-ignored folder of the checkout.
RUN_DIR="${IPMARKET_RUN_DIR:-$ROOT/.run}"
# Downloads (Elasticsearch, stripe-mock) are shared by every clone. Elasticsearch and PostgreSQL refuse to
# run as root, so when we are root they run as service users, who must be able to read the cache:
# /root is private, hence /var/cache.
if [[ "$(id -u)" == 0 ]]; then
  CACHE_DIR="${IPMARKET_CACHE_DIR:-/var/cache/ipmarket}"
else
  CACHE_DIR="${IPMARKET_CACHE_DIR:-$HOME/.cache/ipmarket}"
fi
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
export RUN_DIR CACHE_DIR VENV PY
# As root, PostgreSQL and Elasticsearch run as service users that must reach their data folders. A checkout
# inside a private home (/root) is not reachable for them, so .run then points to a folder under /var/lib.
if [[ "$(id -u)" == 0 && ! -e "$RUN_DIR" && -z "${IPMARKET_RUN_DIR:-}" ]] && ! runuser -u nobody -- test -x "$ROOT" 2>/dev/null; then
  _alt="/var/lib/ipmarket/$(echo "$ROOT" | sha256sum | cut -c1-12)"
  mkdir -p "$_alt" && chmod 755 /var/lib/ipmarket "$_alt" && ln -s "$_alt" "$RUN_DIR"
fi
mkdir -p "$RUN_DIR/logs" "$CACHE_DIR"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

is_root() { [[ "$(id -u)" == 0 ]]; }

# Run a command as a given system user when we are root, as ourselves otherwise.
as_user() {
  local user="$1"; shift
  if is_root; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

ensure_system_user() {
  local user="$1"
  is_root || return 0
  id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
}

# host and port of a URL like scheme://user:pass@host:port/path
url_host() { local u="${1#*://}"; u="${u#*@}"; u="${u%%/*}"; echo "${u%%:*}"; }
url_port() {
  local u="${1#*://}"; u="${u#*@}"; u="${u%%/*}"
  if [[ "$u" == *:* ]]; then echo "${u##*:}"; else echo "$2"; fi
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# A service is ours to manage when its URL is the local default; anything else was pointed elsewhere by
# the caller, and we only check that it answers.
is_managed() {
  local var="$1" default
  default="$(grep "^$var=" "$ROOT/scripts/defaults.env" | cut -d= -f2-)"
  [[ "${!var}" == "$default" ]]
}

wait_for() {
  # wait_for <what> <seconds> <command...>
  local what="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.5
  done
  log "$what is up"
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

apt_install() {
  # apt_install pkg... : installs the missing ones, running `apt-get update` once per call.
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  is_root || die "missing Debian packages: ${missing[*]} (run as root, or install them: apt-get install ${missing[*]})"
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  # Debian's postinst scripts would start system-wide services; we start our own on our own ports.
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ((made_policy)); then rm -f /usr/sbin/policy-rc.d; fi
}
