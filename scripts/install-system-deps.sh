#!/usr/bin/env bash
# Installs the Debian packages lms needs that a fresh machine may lack:
#   run   -> python3-venv (only if `python3 -m venv` does not work)
#   test  -> the above, plus the PostgreSQL and Redis servers the test suite starts itself
# Uses apt-get as root, or through sudo when available; does nothing when all is present.
set -euo pipefail
what=${1:-test}

need=()
if ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then
    need+=(python3-venv)
fi
if [ "$what" = "test" ]; then
    if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null; then
        need+=(postgresql)
    fi
fi
if [ "$what" = "test" ] && ! command -v redis-server >/dev/null; then
    need+=(redis-server)  # the broker the background-work tests start themselves
fi
if [ "$what" = "test" ] && ! command -v chromium >/dev/null; then
    need+=(chromium)  # the browser tests drive Debian's Chromium through Playwright
fi
if [ "$what" = "test" ] && [ "$(id -u)" = "0" ] && ! command -v runuser >/dev/null; then
    need+=(util-linux)
fi

if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
echo "Installing Debian packages: ${need[*]}"
if [ "$(id -u)" = "0" ]; then
    apt_get=(apt-get)
elif command -v sudo >/dev/null; then
    apt_get=(sudo apt-get)
else
    echo "Please install these packages as root: ${need[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${apt_get[@]}" update -q
"${apt_get[@]}" install -y -q --no-install-recommends "${need[@]}"
# The Debian package starts a cluster of its own; the tests start their own private one.
if [[ " ${need[*]} " == *" postgresql "* ]] && command -v service >/dev/null; then
    service postgresql stop >/dev/null 2>&1 || true
fi
# Likewise Redis: the tests start private servers on free ports.
if [[ " ${need[*]} " == *" redis-server "* ]] && command -v service >/dev/null; then
    service redis-server stop >/dev/null 2>&1 || true
fi
