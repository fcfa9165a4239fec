#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the Postgres instance profile
# (deploy/dagster.postgres.yaml). Nothing here is needed when you bring your own server.
#
#   scripts/postgres.sh start [DIR] [PORT]   create the cluster when DIR holds none, start it on
#                                            127.0.0.1:PORT, create the role and database, and print
#                                            the DAGSTER_PG_* variables: eval "$(scripts/postgres.sh start)"
#   scripts/postgres.sh env [DIR]            print the variables of a running cluster again
#   scripts/postgres.sh stop [DIR]           stop it; the data stays until you remove DIR
#
# DIR defaults to .postgres/cluster in the project (git ignores .postgres/), PORT to 55432.
# Debian's `postgresql` package is installed when no initdb is found. initdb refuses to run as
# root, so as root the server runs as the `postgres` user. The role's password is made at random
# and kept in DIR/password (0600); only loopback TCP and DIR's own socket are listened on.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ACTION="${1:-}"
DIR="${2:-$ROOT/.postgres/cluster}"
PORT="${3:-55432}"
ROLE=dagster
DATABASE=dagster

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

pg_bin() {
  local initdb
  if initdb="$(command -v initdb)"; then
    dirname "$(readlink -f "$initdb")"
  else
    find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1
  fi
}

install_postgres() {
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed; run as root, or: apt-get install postgresql"
  echo "postgres.sh: installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q postgresql >&2
}

# Run a command as the cluster's owner: the postgres user when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

print_env() {
  [ -f "$DIR/port" ] && [ -f "$DIR/password" ] || die "no cluster in $DIR; run: $0 start $DIR"
  echo "export DAGSTER_PG_HOST=127.0.0.1"
  echo "export DAGSTER_PG_PORT=$(cat "$DIR/port")"
  echo "export DAGSTER_PG_USERNAME=$ROLE"
  echo "export DAGSTER_PG_PASSWORD=$(cat "$DIR/password")"
  echo "export DAGSTER_PG_DB=$DATABASE"
}

running() {
  [ -f "$DIR/data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

init_cluster() {
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
  chmod 700 "$DIR"
  (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$DIR/password")
  [ "$(id -u)" = 0 ] && chown postgres: "$DIR/password"
  as_owner "$BIN/initdb" -D "$DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 ||
    { tail -n 5 "$DIR/initdb.log" >&2; die "initdb failed"; }
}

sql() {
  as_owner "$BIN/psql" -h "$DIR" -p "$(cat "$DIR/port")" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -qtAc "$1"
}

create_role_and_database() {
  local password
  password="$(cat "$DIR/password")"
  sql "DO \$\$ BEGIN
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
           CREATE ROLE $ROLE LOGIN PASSWORD '$password';
         END IF;
       END \$\$" >/dev/null
  if [ -z "$(sql "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]; then
    sql "CREATE DATABASE $DATABASE OWNER $ROLE" >/dev/null
  fi
}

start() {
  [ -n "$BIN" ] && [ -x "$BIN/initdb" ] || install_postgres
  BIN="$(pg_bin)"
  [ -x "$BIN/initdb" ] || die "no initdb after installing postgresql"
  [ -f "$DIR/data/PG_VERSION" ] || init_cluster
  if ! running; then
    echo "$PORT" >"$DIR/port"
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
      -o "-p $PORT -k '$DIR' -c listen_addresses=127.0.0.1" >/dev/null ||
      { tail -n 5 "$DIR/server.log" >&2; die "the server did not start on port $PORT"; }
  fi
  create_role_and_database
  print_env
}

stop() {
  if [ -n "$BIN" ] && running; then
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
  fi
}

BIN="$(pg_bin)"
case "$ACTION" in
  start) start ;;
  env) print_env ;;
  stop) stop ;;
  *) die "usage: $0 start|env|stop [DIR] [PORT]" ;;
esac
