#!/bin/sh
# tspc template that changes nothing: prints every TSP_* variable as NAME=value (sorted) and
# checks that the ones a tunnel needs are set. Useful to see what tspc passes to a script, and
# in tests. With TSP_CHECKTUNNEL_OUT set (in tspc's environment) the lines are also appended
# to that file. Exit 1 naming the first missing variable, else 0.

vars=$(env | grep '^TSP_' | LC_ALL=C sort)
echo "$vars"
if [ -n "${TSP_CHECKTUNNEL_OUT:-}" ]; then
  { echo "$vars"; echo "--"; } >>"$TSP_CHECKTUNNEL_OUT" || exit 1
fi

missing() {
  echo "checktunnel.sh: $1 is not set" >&2
  exit 1
}
# Must be non-empty.
for name in TSP_OPERATION TSP_VERBOSE TSP_HOME_DIR TSP_TUNNEL_MODE TSP_HOST_TYPE \
            TSP_TUNNEL_INTERFACE TSP_CLIENT_ADDRESS_IPV4 TSP_CLIENT_ADDRESS_IPV6 \
            TSP_SERVER_ADDRESS_IPV4 TSP_SERVER_ADDRESS_IPV6 TSP_TUNNEL_PREFIXLEN; do
  eval "value=\${$name:-}"
  [ -n "$value" ] || missing "$name"
done
# Must exist, may be empty.
for name in TSP_HOME_INTERFACE TSP_CLIENT_DNS_ADDRESS_IPV6; do
  isset=no
  eval "isset=\${$name+yes}"
  [ "$isset" = yes ] || missing "$name"
done
case "$TSP_OPERATION" in
  TSP_TUNNEL_CREATION|TSP_TUNNEL_TEARDOWN) ;;
  *) echo "checktunnel.sh: TSP_OPERATION=$TSP_OPERATION is not a known operation" >&2; exit 1 ;;
esac
if [ "$TSP_HOST_TYPE" = router ]; then
  for name in TSP_HOME_INTERFACE TSP_PREFIX TSP_PREFIXLEN; do
    eval "value=\${$name:-}"
    [ -n "$value" ] || missing "$name"
  done
fi
exit 0
