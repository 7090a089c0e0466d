#!/usr/bin/env bash
# Throwaway PostgreSQL on loopback for the server's tests and benchmarks.
#   scripts/pg.sh start   start it (or reuse the running one); prints on stdout:
#                         export ASSIETTE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/pg.sh stop    stop it (the data folder stays; `scripts/pg.sh clean` removes it)
#   scripts/pg.sh url     print the URL of the running instance
# Uses Debian's `postgresql` package (installed by scripts/setup.sh). Everything else goes to stderr
# so that `eval "$(scripts/pg.sh start)"` only sees the export line.
set -euo pipefail

DIR=${ASSIETTE_PG_DIR:-/tmp/assiette-pg-$(id -u)}
DATA=$DIR/data
LOG=$DIR/postgres.log

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL introuvable (/usr/lib/postgresql/*/bin) : lancez scripts/setup.sh (paquet Debian postgresql)." >&2
  exit 1
fi

# initdb and postgres refuse to run as root: use the `postgres` system user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() {
  [ -f "$DATA/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

print_url() {
  echo "export ASSIETTE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$(cat "$DIR/port")/postgres"
}

start() {
  if running && [ -f "$DIR/port" ]; then
    echo "PostgreSQL déjà démarré (port $(cat "$DIR/port"), $DATA)." >&2
    print_url
    return
  fi
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
  if [ ! -f "$DATA/PG_VERSION" ]; then
    as_owner "$bindir/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
  fi
  local port=${ASSIETTE_PG_PORT:-}
  if [ -z "$port" ]; then
    for p in $(seq 55432 55532); do
      if port_free "$p"; then port=$p; break; fi
    done
  fi
  [ -n "$port" ] || { echo "aucun port libre entre 55432 et 55532" >&2; exit 1; }
  # fsync stays on: the benchmarks measure durable commits.
  as_owner "$bindir/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$DIR -c max_connections=200" start >&2 \
    || { tail -n 20 "$LOG" >&2; exit 1; }
  echo "$port" >"$DIR/port"
  echo "PostgreSQL démarré sur 127.0.0.1:$port ($DATA)." >&2
  print_url
}

stop() {
  if running; then
    as_owner "$bindir/pg_ctl" -D "$DATA" -m fast -w stop >&2
  else
    echo "PostgreSQL n'est pas démarré." >&2
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) running && print_url || { echo "PostgreSQL n'est pas démarré." >&2; exit 1; } ;;
  clean) stop; rm -rf "$DIR" ;;
  *) echo "Utilisation : scripts/pg.sh start|stop|url|clean" >&2; exit 2 ;;
esac
