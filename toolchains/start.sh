#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds Canvass, and starts canvass-server on 127.0.0.1 with
# SQLite and the example surveys published. This is the README's first command.
#   CANVASS_DATA   data directory (default: ./build/demo-data)
#   CANVASS_LISTEN address (default: 127.0.0.1:8080)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${CANVASS_DATA:-$root/build/demo-data}
listen=${CANVASS_LISTEN:-127.0.0.1:8080}

./toolchains/setup.sh
echo "start: building (native)"
cmake --preset native >/dev/null
cmake --build --preset native >/dev/null
server=$root/build/native/native/canvass-server

# The widget (wasm preset): the kiosk and embed pages are served from build/wasm/site. If that
# build fails the server still starts, without the widget pages.
site=$root/build/wasm/site
static_args=()
echo "start: building (wasm: widget, dashboard, kiosk and embed pages)"
if cmake --preset wasm >/dev/null && cmake --build --preset wasm --target canvass_site >/dev/null; then
  static_args=(--static "$site" --web-origin "http://$listen")
else
  echo "start: the wasm build failed; starting without the widget pages" >&2
fi

url="http://$listen"
cat <<MSG

Canvass is starting on $url with SQLite in $data.
  health:        $url/healthz
  device API:    $url/v1/enroll, $url/v1/records   (docs/protocol.md)
  admin API:     $url/v1/admin/...                 (Authorization: Bearer <admin token>)
  metrics:       $url/metrics
  kiosk:         $url/kiosk/?survey=restaurant   (enroll it with a code, below)
  embed demo:    $url/embed-demo.html
  dashboard:     $url/dashboard/   (log in with the token in $data/initial-admin-token, or a password)
Try it from another terminal:
  token=\$(cat $data/initial-admin-token)
  code=\$(build/native/native/canvass admin --server $url --token \$token enroll-code --location Kyiv-Podil)
  # a browser kiosk: open $url/kiosk/?survey=restaurant&code=\$code (or type the code on it)
  build/native/native/canvass device --state /tmp/kiosk1 enroll --server $url --code \$code
  build/native/native/canvass device --state /tmp/kiosk1 record --survey restaurant --answers '{"recommend": 9, "price": {"importance": 1, "satisfaction": 5}, "staff": {"importance": 1, "satisfaction": 4}, "place": {"importance": 0, "satisfaction": 4}, "product": {"importance": 1, "satisfaction": 5}, "promotion": {"importance": 0, "satisfaction": 3}}'
  build/native/native/canvass device --state /tmp/kiosk1 push
  build/native/native/canvass admin --server $url --token \$token export
  # demo data for the dashboard: 3,000 offers recorded and pushed by that device (--here: at its
  # own location, since a device never chooses its location; one device per location keeps them apart)
  build/native/native/canvass demo-data --survey examples/restaurant.json --count 3000 --seed 3 --days 60 --out /tmp/demo.jsonl
  build/native/native/canvass device --state /tmp/kiosk1 import --here --survey restaurant --input /tmp/demo.jsonl
  build/native/native/canvass device --state /tmp/kiosk1 push
Stop with Ctrl-C.

MSG
"$server" --data "$data" --listen "$listen" \
  --publish examples/restaurant.json --publish examples/shop-checkout.json \
  --publish examples/website-nps.json "${static_args[@]}" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null' INT TERM
# A kiosk link ready to open: a one-time enrollment code made with the initial admin token (as
# long as no admin password replaced it), once the server answers.
cli=$root/build/native/native/canvass
token_file=$data/initial-admin-token
host=${listen%:*} port=${listen##*:}
for _ in $(seq 1 150); do  # up to 30 s for the server to listen
  kill -0 $pid 2>/dev/null || break
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    if [ -f "$token_file" ] && code=$("$cli" admin --server "$url" \
        --token "$(cat "$token_file")" enroll-code --location Kyiv-Podil 2>/dev/null); then
      if [ ${#static_args[@]} -gt 0 ]; then
        echo "start: open $url/kiosk/?survey=restaurant&code=$code to answer on a kiosk"
        echo "       (the code works once; $url/embed-demo.html needs none)"
      else
        echo "start: an enrollment code for a device: $code"
      fi
    fi
    break
  fi
  sleep 0.2
done
status=0
wait $pid || status=$?
# Ctrl-C interrupts `wait`: wait again for the server's graceful stop.
if kill -0 $pid 2>/dev/null; then wait $pid || status=$?; fi
exit $status
