#!/bin/sh
# Test template for tspc (tests/netns/tspc_e2e.sh): records what tspc hands to its template
# script, then runs the shipped linux.sh so the tunnel is really configured.
#
# Installed as <tsp_dir>/template/linux.sh next to the shipped script, copied as
# <tsp_dir>/template/shipped-linux.sh. Each run writes <tsp_dir>/records/NNN-<operation>.env
# (every TSP_* variable, sorted, NAME=value) and appends "NNN <operation> exit=STATUS" to
# <tsp_dir>/records/index once the shipped script has finished, so the test can wait for it.
# Paths come from TSP_HOME_DIR, which tspc sets, so no extra environment has to survive
# tspc's daemon start-up.
set -u
home=${TSP_HOME_DIR:?tspc did not set TSP_HOME_DIR}
records=$home/records
mkdir -p "$records"
seq=1
for f in "$records"/*.env; do [ -e "$f" ] && seq=$((seq + 1)); done
name=$(printf '%03d-%s' "$seq" "${TSP_OPERATION:-none}")
env | grep '^TSP_' | LC_ALL=C sort >"$records/$name.env.tmp"
mv "$records/$name.env.tmp" "$records/$name.env"

/bin/sh "$home/template/shipped-linux.sh" >"$records/$name.out" 2>&1
status=$?
cat "$records/$name.out"
echo "$seq ${TSP_OPERATION:-none} exit=$status" >>"$records/index"
exit "$status"
