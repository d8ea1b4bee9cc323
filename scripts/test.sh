#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine, then the suite itself. Extra arguments go to pytest.
#   - a virtualenv (.venv) with the project and its test extras
#   - Debian's chromium and a CJK font (fonts-wqy-microhei) for the browser tests; LibreOffice (writer, no GUI) and
#     poppler-utils for the briefing tests, which render the Word file to PDF and PNG
#   - the Elasticsearch server: the tests' es_url fixture (tests/es_fixture.py) fetches it from Maven Central with
#     mvn, starts a node on 127.0.0.1:9250 (or reuses the one already up) and leaves it running for the next run;
#     es_cluster starts two more nodes of the same server (127.0.0.1:9260/9261, 384 MB heap each) the same way
#   - Debian's postgresql and redis-server: tests/pg_fixture.py makes a cluster under .cache/pg and serves it on
#     127.0.0.1:55432, tests/redis_fixture.py serves Redis on 127.0.0.1:56379; both are reused and left running
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
VENV=${VENV:-.venv}
BIN=$VENV/bin

step() { printf '\n== %s\n' "$*"; }

step "python environment ($VENV)"
test -x "$BIN/python" || "$PY" -m venv "$VENV"
"$BIN/python" -m pip install -q --upgrade pip
"$BIN/python" -m pip install -q -e '.[test]'

step "chromium, a CJK font, LibreOffice, poppler, gcc, PostgreSQL and Redis"
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# the briefing tests render the .docx: LibreOffice (headless) -> PDF, poppler -> PNG pages and text
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# gcc builds the C extensions, and the clusterer's fuzz test builds a copy with -fsanitize=address,undefined
command -v gcc >/dev/null 2>&1 || need+=(gcc)
# the state tests run on SQLite and on a real PostgreSQL; the multi-process tests need a real Redis
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# tests/test_docker_compose.py checks deploy/nginx.conf with nginx's own parser (nginx -t; no server started)
command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || need+=(nginx)
fc-list 2>/dev/null | grep -qi "WenQuanYi\|Noto Sans CJK\|Noto Serif CJK" || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else SUDO=none; fi
  if [ "$SUDO" = none ]; then
    echo "cannot install ${need[*]} (not root, no sudo): the tests that need them will fail" >&2
  else
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
command -v chromium && chromium --version || true

step "tests"
exec "$BIN/python" -m pytest "$@"
