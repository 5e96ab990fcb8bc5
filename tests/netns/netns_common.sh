# Helpers shared by the namespace tests (sourced). Each test defines its own fail(), which
# these call to report and clean up.

say() { printf '== %s\n' "$*"; }

# Foreground only. Background jobs call `ip netns exec` directly, so that $! is the process
# itself (ip execs it) and not a subshell that a kill would leave behind.
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Waits up to $2 seconds for a line matching $3 in file $1, failing early if process $4 died.
wait_for_line() {  # FILE SECONDS PATTERN [PID]
  local file=$1 seconds=$2 pattern=$3 pid=${4:-}
  local deadline=$((SECONDS + seconds))
  until grep -q -- "$pattern" "$file" 2>/dev/null; do
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || fail "process $pid exited before printing '$pattern' in ${file##*/}"
    [ $SECONDS -lt $deadline ] || fail "no '$pattern' in ${file##*/} after ${seconds}s"
    sleep 0.2
  done
}
