#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine, then the suite itself. Extra arguments go to pytest.
#   - a virtualenv (.venv) with the project and its test extras
#   - Debian's chromium and a CJK font (fonts-wqy-microhei) for the browser tests; LibreOffice (writer, no GUI) and
#     poppler-utils for the briefing tests, which render the Word file to PDF and PNG
#   - the Elasticsearch server: the tests' es_url fixture (tests/es_fixture.py) fetches it from Maven Central with
#     mvn, starts a node on 127.0.0.1:9250 (or reuses the one already up) and leaves it running for the next run
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

step "chromium, a CJK font, LibreOffice, poppler and gcc"
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# the briefing tests render the .docx: LibreOffice (headless) -> PDF, poppler -> PNG pages and text
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# gcc builds the C extensions, and the clusterer's fuzz test builds a copy with -fsanitize=address,undefined
command -v gcc >/dev/null 2>&1 || need+=(gcc)
fc-list 2>/dev/null | grep -qi "WenQuanYi\|Noto Sans CJK\|Noto Serif CJK" || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else SUDO=none; fi
  if [ "$SUDO" = none ]; then
    echo "cannot install ${need[*]} (not root, no sudo): the browser tests will fail" >&2
  else
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
command -v chromium && chromium --version || true

step "tests"
exec "$BIN/python" -m pytest "$@"
