#!/usr/bin/env bash
# Run a command beside a throw-away PostgreSQL server on 127.0.0.1, then stop it.
# The server runs as a non-root user (postgres when we are root), trusts only loopback,
# and lives in a temporary directory removed afterwards. Exports HUTONG_TEST_PG_URL.
set -euo pipefail

find_bin() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  return 1
}

BIN="$(find_bin)" || { echo "PostgreSQL server not found: install it (apt-get install postgresql)" >&2; exit 1; }
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
DATA="$(mktemp -d /tmp/hutong-pg.XXXXXX)"
RUN_AS=()
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  chown postgres "$DATA"
  RUN_AS=(runuser -u postgres --)
fi

"${RUN_AS[@]}" "$BIN/initdb" -D "$DATA/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DATA/initdb.log" 2>&1 \
  || { cat "$DATA/initdb.log" >&2; exit 1; }
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA/data" -l "$DATA/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null

stop() {
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap stop EXIT

export HUTONG_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
export HUTONG_TEST_DB=postgresql
echo "throw-away PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
"$@"
