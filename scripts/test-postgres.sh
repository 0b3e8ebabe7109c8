#!/usr/bin/env bash
# test-postgres.sh makes sure the system PostgreSQL cluster runs and has the
# test role soitto_test, then prints the admin URL for SOITTO_TEST_POSTGRES:
#
#   export SOITTO_TEST_POSTGRES=$(scripts/test-postgres.sh)
#
# For tests only: the role's password is its name. Runs as root or through
# sudo on Debian or Ubuntu, installing the postgresql package if needed.
# Idempotent. Only the URL goes to stdout; diagnostics go to stderr.
set -euo pipefail

log() { echo "test-postgres: $*" >&2; }
die() { log "$*"; exit 1; }

ROLE=soitto_test

# as_root closes fd 9, the lock below, so that a server it starts does not
# hold the lock for its lifetime.
if [[ $EUID -eq 0 ]]; then
	as_root() { "$@" 9>&-; }
elif command -v sudo >/dev/null; then
	as_root() { sudo "$@" 9>&-; }
else
	die "run as root or install sudo"
fi

# Another test binary may be running this script at the same moment.
exec 9>"${TMPDIR:-/tmp}/soitto-test-postgres.lock"
flock -w 600 9 || die "timed out waiting for another run of this script"

if ! command -v pg_lsclusters >/dev/null; then
	log "pg_lsclusters not found; installing postgresql with apt-get"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

# pg_lsclusters -h: "VER CLUSTER PORT STATUS OWNER DATADIR LOGFILE".
# Prefer the newest version's cluster named main, else the newest cluster.
cluster() {
	pg_lsclusters -h | sort -k1,1V | awk '
		{ last = $0 } $2 == "main" { main = $0 }
		END { if (main != "") print main; else if (last != "") print last }'
}

line=$(cluster)
if [[ -z $line ]]; then
	ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
	[[ -n $ver ]] || die "no PostgreSQL server under /usr/lib/postgresql"
	log "no cluster; creating $ver/main"
	as_root pg_createcluster "$ver" main >&2
	line=$(cluster)
fi
read -r ver name port status _ <<<"$line"

if [[ $status != online* ]]; then
	log "starting cluster $ver/$name"
	as_root pg_ctlcluster "$ver" "$name" start >&2
fi

for ((i = 0; ; i++)); do
	pg_isready -q -h 127.0.0.1 -p "$port" && break
	((i < 60)) || die "cluster $ver/$name not accepting connections on 127.0.0.1:$port after 30 s"
	sleep 0.5
done

# psql as postgres over the socket (peer auth); cd / so that psql need not
# read our working directory.
psql_admin() { (cd / && as_root runuser -u postgres -- psql -X -q -At -p "$port" -d postgres "$@"); }

if [[ -z $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'") ]]; then
	log "creating role $ROLE"
	psql_admin -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$ROLE'" >&2
fi
# DROP DATABASE ... WITH (FORCE) in the tests' cleanup may have to end
# backends of other roles.
psql_admin -c "GRANT pg_signal_backend TO $ROLE" >&2

echo "postgres://$ROLE:$ROLE@127.0.0.1:$port/postgres?sslmode=disable"
