#!/usr/bin/env bash
# Installs the Debian packages the test suite talks to, when they are missing:
# redis-server / redis-tools (throwaway Redis, Cluster and Sentinel), memcached, python3-quart
# (the tagged-JSON reference, under /usr/bin/python3), python3-flask, python3-redis,
# python3-flask-session and python3-hypercorn (the Python apps of spec/interop/), python3-msgpack
# (the msgpack entry Flask-Session 0.7+ writes, spec/interop/quart-session.spec.ts), chromium (browser
# tests) and postgresql (initdb / postgres for the throwaway PostgreSQL behind connect-pg-simple,
# spec/support/postgres.ts; the specs run their own cluster, whatever the package starts is left alone).
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v memcached >/dev/null || missing+=(memcached)
/usr/bin/python3 -c 'import quart' >/dev/null 2>&1 || missing+=(python3-quart)
/usr/bin/python3 -c 'import flask' >/dev/null 2>&1 || missing+=(python3-flask)
/usr/bin/python3 -c 'import redis' >/dev/null 2>&1 || missing+=(python3-redis)
/usr/bin/python3 -c 'import flask_session' >/dev/null 2>&1 || missing+=(python3-flask-session)
/usr/bin/python3 -c 'import hypercorn' >/dev/null 2>&1 || missing+=(python3-hypercorn)
/usr/bin/python3 -c 'import msgpack' >/dev/null 2>&1 || missing+=(python3-msgpack)
command -v chromium >/dev/null || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
