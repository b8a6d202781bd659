#!/bin/sh
# The lead_scoring demo: `make demo` runs it as `pg_virtualenv -t sh demo/run.sh`
# (pg_virtualenv starts a throwaway cluster and sets PGHOST, PGPORT, PGUSER and
# PGDATABASE). It creates a fresh database, loads the sample model and data, and
# prints the report. Set DEMO_DB to use another database name.
set -eu
cd "$(dirname "$0")"

db=${DEMO_DB:-lead_scoring_demo}
psql_() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
clock() { t=$(date +%s.%N); case $t in *N) date +%s ;; *) echo "$t" ;; esac; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

start=$(clock)
# UTF8 whatever the cluster's locale (the report draws bars with U+2588), and the
# C collation so that the output does not depend on the machine's locale.
PGCLIENTENCODING=UTF8
export PGCLIENTENCODING
psql_ -d postgres -c 'SET client_min_messages = warning' \
	-c "DROP DATABASE IF EXISTS \"$db\"" \
	-c "CREATE DATABASE \"$db\" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"
PGDATABASE=$db
export PGDATABASE

psql_ -c 'CREATE EXTENSION lead_scoring'
psql_ -f sample_model.sql
model_done=$(clock)
echo "created the extension and the 'demo' model in $(seconds "$start" "$model_done") s"

psql_ -f sample_suppression.sql
psql_ -f sample_data.sql
data_done=$(clock)
loaded=$(psql_ -At -c "SELECT format('%s leads and %s activities',
                                     (SELECT count(*) FROM lead_scoring.leads),
                                     (SELECT count(*) FROM lead_scoring.activities))")
echo "loaded $loaded in $(seconds "$model_done" "$data_done") s (scored live by the extension's triggers)"

psql_ -f sample_sales.sql
psql_ -f report.sql
done_at=$(clock)
echo "report in $(seconds "$data_done" "$done_at") s; whole demo in $(seconds "$start" "$done_at") s"
