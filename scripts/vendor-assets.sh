#!/usr/bin/env bash
# Refresh the vendored browser libraries in static/vendor from the npm registry (the desk must work on a
# closed network, so no CDN). Versions are pinned here; the files are committed.
set -euo pipefail
SOCKETIO_CLIENT=4.8.4
ECHARTS=5.6.0
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "socket.io-client@$SOCKETIO_CLIENT" "echarts@$ECHARTS" >/dev/null
mkdir sio ec
tar -xzf "socket.io-client-$SOCKETIO_CLIENT.tgz" -C sio
tar -xzf "echarts-$ECHARTS.tgz" -C ec
mkdir -p "$here/static/vendor"
cp sio/package/dist/socket.io.min.js "$here/static/vendor/socket.io.min.js"
cp ec/package/dist/echarts.min.js "$here/static/vendor/echarts.min.js"
cat > "$here/static/vendor/VERSIONS" <<V
socket.io-client $SOCKETIO_CLIENT (MIT) dist/socket.io.min.js
echarts $ECHARTS (Apache-2.0) dist/echarts.min.js
V
echo "vendored socket.io-client $SOCKETIO_CLIENT and echarts $ECHARTS into static/vendor"
