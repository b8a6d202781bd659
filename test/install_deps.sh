#!/bin/sh
# Installs what a fresh Debian 12 machine lacks to build, demo and test
# lead_scoring: PostgreSQL 15, its server headers, pg_virtualenv, a compiler,
# plpgsql_check (test/plpgsql_check.sh), libfaketime (the suite with the
# server's clock ahead, test/regress_clock_ahead.sh), and scikit-learn for
# Debian's python3 (test/train_vs_sklearn.sh compares with it).
# Runs apt-get only when something is missing; uses sudo when not root.
# Extra packages may be named as arguments (make fuzz adds clang's).
set -eu

packages="postgresql-15 postgresql-server-dev-15 postgresql-common postgresql-client-15 make gcc libc6-dev valgrind
  postgresql-15-plpgsql-check libfaketime python3-sklearn $*"
missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "installing:$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
