#!/usr/bin/env bash
# The live view: gzmem watching gzload, the gazelle-shaped demo workload, until Ctrl-C.
#   make demo                 gzload (2 stacks, preload, an lstack.conf), then `gzmem lstack show <pid> -i 1`
#   make demo TARGET=<pid>    watch your own DPDK process instead
#   COUNT=5 make demo         stop after 5 refreshes
set -euo pipefail
cd "$(dirname "$0")/.."
gzmem=(node bin/gzmem.js)

if [ -n "${TARGET:-}" ]; then
  exec "${gzmem[@]}" show "$TARGET" -i 1 ${COUNT:-}
fi

prefix="gzdemo$$"
log=$(mktemp)
conf=$(mktemp --suffix=.conf)
# The same values sized gzload's pools: gzmem reads them back through LSTACK_CONF_PATH.
cat >"$conf" <<CONF
tcp_conn_count = 256
mbuf_count_per_conn = 170
nic_rxqueue_size = 512
nic_txqueue_size = 512
num_cpus = "1"
host_addr = "192.0.2.1"
CONF
# gzload keeps running when its stdin ends; stdout carries its one "ready" line.
LSTACK_CONF_PATH="$conf" LD_PRELOAD="$PWD/native/build/libgzmem.so" \
  native/build/gzload --lcores 0@0,1@1,2@1 --no-pci --file-prefix "$prefix" --huge-unlink \
  -- --stacks 2 --tcp_conn_count 256 --mbuf_count_per_conn 170 --nic_rxqueue_size 512 --nic_txqueue_size 512 \
     --pattern burst --hold 8 </dev/null >"$log" 2>"$log.err" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -f "$log" "$log.err" "$conf"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in $(seq 100); do
  grep -q '"ready":true' "$log" && break
  kill -0 "$pid" 2>/dev/null || { echo "gzload failed to start:" >&2; tail -5 "$log.err" >&2; exit 1; }
  sleep 0.1
done
grep -q '"ready":true' "$log" || { echo "gzload did not become ready" >&2; exit 1; }
echo "gzload pid $pid (prefix $prefix, preload libgzmem.so) is running; gzmem shows it every second. Ctrl-C stops both." >&2
echo "Try also: node bin/gzmem.js show $pid    node bin/gzmem.js list    node bin/gzmem.js hugepages" >&2
sleep 1
"${gzmem[@]}" lstack show "$pid" -m -i 1 ${COUNT:-}
