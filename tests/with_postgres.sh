#!/usr/bin/env bash
# Runs `BINARY TAG` once per TAG against a throwaway PostgreSQL 15 cluster, each run with a fresh
# database named in CANVASS_TEST_PG_URL (the storage contract suite, tests/CMakeLists.txt). Fails,
# never skips, if PostgreSQL cannot start. As root the cluster runs as user postgres, as
# tests/server/harness.mjs does.
#   tests/with_postgres.sh build/native/tests/canvass_unit_tests '[storage-pg]' '[postgres]'
set -euo pipefail
binary=$1
shift
pg_bin=${CANVASS_PG_BIN:-/usr/lib/postgresql/15/bin}
if [[ ! -x $pg_bin/initdb || ! -x $pg_bin/pg_ctl ]]; then
  echo "PostgreSQL 15 is not installed: $pg_bin/initdb and pg_ctl are missing." \
    "Run ./toolchains/setup.sh (it installs the Debian package postgresql), or set CANVASS_PG_BIN." >&2
  exit 1
fi
dir=$(mktemp -d /tmp/canvass-pg-XXXXXX)
pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$pg_bin/$1" "${@:2}"; else "$pg_bin/$1" "${@:2}"; fi
}
cleanup() {
  pg pg_ctl -D "$dir/data" -m immediate -w stop > /dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
if [[ $(id -u) == 0 ]]; then chown postgres: "$dir" && chmod 755 "$dir"; fi
pg initdb -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync > "$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
started=no
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  if pg pg_ctl -D "$dir/data" -l "$dir/pg.log" -w -t 30 start \
       -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=100" > /dev/null 2>&1; then
    started=yes
    break
  fi
done
if [[ $started != yes ]]; then
  echo "PostgreSQL did not start:" >&2
  cat "$dir/pg.log" >&2 || true
  exit 1
fi
status=0
n=0
for tag in "$@"; do
  n=$((n + 1))
  pg createdb -h 127.0.0.1 -p "$port" -U postgres "contract$n"
  echo "== $tag"
  CANVASS_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/contract$n" \
    "$binary" "$tag" --use-colour no --reporter compact || status=1
done
exit $status
