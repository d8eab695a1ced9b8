#!/usr/bin/env bash
# Installs the Debian packages lms needs that a fresh machine may lack:
#   run   -> python3-venv (only if `python3 -m venv` does not work), and what certificate PDFs
#            need: Pango, HarfBuzz's subsetter and the fonts (DejaVu, Noto, Noto CJK)
#   test  -> the above, plus the PostgreSQL and Redis servers the test suite starts itself,
#            the tools the certificate tests read PDFs with (poppler-utils, zbar-tools), and
#            Chromium and npm for the browser tests (tests/e2e)
# Uses apt-get as root, or through sudo when available; does nothing when all is present.
set -euo pipefail
what=${1:-test}

need=()
if ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then
    need+=(python3-venv)
fi
# Certificate PDFs (WeasyPrint): Pango, HarfBuzz subsetting (several times faster than the
# fontTools fallback) and fonts for names in any script, so that every machine renders alike.
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    fonts-noto-core fonts-noto-cjk; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
        need+=("$pkg")
    fi
done
if [ "$what" = "test" ]; then
    for tool in pdftotext:poppler-utils zbarimg:zbar-tools; do
        if ! command -v "${tool%%:*}" >/dev/null; then
            need+=("${tool##*:}")
        fi
    done
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
if [ "$what" = "test" ] && ! command -v npm >/dev/null; then
    need+=(npm)  # installs axe-core (tests/e2e/package-lock.json), which the browser tests inject
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
