#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the test suite on a fresh Debian machine (run as root):
# installs Debian's `postgresql` package if needed, creates a cluster owned by the `postgres` user (the server
# refuses to run as root) in a new temporary directory, starts it on a free loopback port, creates a database and
# a password-protected user, and prints shell `export` lines on stdout; everything else goes to stderr.
#
#   eval "$(.ci/postgres.sh)"      # sets XMTP_TEST_POSTGRES_URL (and XMTP_TEST_POSTGRES_STOP)
#   npm test                       # the PostgreSQL store tests now run against it
#   eval "$XMTP_TEST_POSTGRES_STOP"
set -euo pipefail
exec 3>&1 1>&2

if [ "$(id -u)" -ne 0 ]; then
  echo "postgres.sh: run as root (it installs packages and switches to the postgres user)" >&2
  exit 1
fi

find_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(find_bindir)" ] || [ "${XMTP_POSTGRES_FORCE_INSTALL:-}" = "1" ]; then
  echo "postgres.sh: installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  # The package's own "main" cluster is not used; policy-rc.d-style service failures in containers are harmless.
  apt-get install -y --no-install-recommends postgresql
fi
BINDIR="$(find_bindir)"
if [ -z "$BINDIR" ]; then
  echo "postgres.sh: no PostgreSQL binaries under /usr/lib/postgresql/*/bin after installing" >&2
  exit 1
fi
echo "postgres.sh: using $BINDIR" >&2

# A free loopback port: bind port 0 and read back what the kernel chose.
free_port() {
  if command -v node >/dev/null 2>&1; then
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  else
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
  fi
}
PORT="${XMTP_TEST_POSTGRES_PORT:-$(free_port)}"

CLUSTER_DIR="$(mktemp -d /tmp/xmtp-ts-postgres.XXXXXX)"
chown postgres:postgres "$CLUSTER_DIR"
chmod 700 "$CLUSTER_DIR"
PASSWORD="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
DB_USER=xmtp
DB_NAME=xmtp_test

as_postgres() { runuser -u postgres -- "$@"; }

as_postgres "$BINDIR/initdb" --pgdata="$CLUSTER_DIR/data" --username=postgres --auth-local=trust \
  --auth-host=scram-sha-256 --encoding=UTF8 --no-instructions >/dev/null
# Loopback only; the Unix socket lives in the cluster directory so no system directory is needed. The server must
# not inherit fd 3 (our stdout), or `$(.ci/postgres.sh)` would wait for it to exit.
as_postgres "$BINDIR/pg_ctl" --pgdata="$CLUSTER_DIR/data" --log="$CLUSTER_DIR/server.log" --wait \
  -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$CLUSTER_DIR -c fsync=on" start >/dev/null 3>&-

psql_admin() { as_postgres "$BINDIR/psql" --host="$CLUSTER_DIR" --port="$PORT" --username=postgres -v ON_ERROR_STOP=1 -q "$@"; }
psql_admin -d postgres -c "CREATE ROLE $DB_USER LOGIN PASSWORD '$PASSWORD'"
psql_admin -d postgres -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"

URL="postgres://$DB_USER:$PASSWORD@127.0.0.1:$PORT/$DB_NAME"
# Prove the URL works over TCP with the password before handing it out.
PGPASSWORD="$PASSWORD" "$BINDIR/psql" "$URL" -v ON_ERROR_STOP=1 -q -t -c "SELECT 1" >/dev/null
echo "postgres.sh: PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') listening on 127.0.0.1:$PORT, database $DB_NAME (cluster in $CLUSTER_DIR)" >&2

STOP="runuser -u postgres -- $BINDIR/pg_ctl --pgdata=$CLUSTER_DIR/data --wait stop -m fast && rm -rf $CLUSTER_DIR"
printf 'export XMTP_TEST_POSTGRES_URL=%q\n' "$URL" >&3
printf 'export XMTP_TEST_POSTGRES_STOP=%q\n' "$STOP" >&3
