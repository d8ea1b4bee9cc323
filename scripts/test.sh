#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine, then the suite itself. Extra arguments go to pytest.
#   - a virtualenv (.venv) with the project and its test extras
#   - Debian's chromium and a CJK font (fonts-wqy-microhei) for the browser tests
#   - the Elasticsearch server from Maven Central (the tests start a node on 127.0.0.1:9250, reuse one that is
#     already up, and stop the one they started unless OPINION_DESK_KEEP_ES=1)
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

step "chromium and a CJK font"
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "WenQuanYi\|Noto Sans CJK\|Noto Serif CJK" || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else SUDO=none; fi
  if [ "$SUDO" = none ]; then
    echo "cannot install ${need[*]} (not root, no sudo): the browser tests will fail" >&2
  else
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi
command -v chromium && chromium --version || true

step "Elasticsearch (Maven Central)"
"$BIN/opinion-desk" es fetch

step "tests"
exec "$BIN/python" -m pytest "$@"
