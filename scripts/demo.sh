#!/usr/bin/env bash
# The live view: gzmem watching gzload, the gazelle-shaped demo workload, until Ctrl-C.
#   make demo                 gzload (2 stacks, preload, an lstack.conf), `gzmem serve` recording it
#                             (dashboard URL printed), then `gzmem lstack show <pid> -i 1` in the terminal
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
# The same values sized gzload's pools: gzmem reads them back through LSTACK_CONF_PATH. As in
# gazelle, tcp_conn_count is the process's: two stacks of 256 (both on CPU 1 of a 2-core machine).
cat >"$conf" <<CONF
tcp_conn_count = 512
mbuf_count_per_conn = 170
nic_rxqueue_size = 512
nic_txqueue_size = 512
num_cpus = "1,2"
host_addr = "192.0.2.1"
CONF
# gzload keeps running when its stdin ends; stdout carries its one "ready" line.
LSTACK_CONF_PATH="$conf" LD_PRELOAD="$PWD/native/build/libgzmem.so" \
  native/build/gzload --lcores 0@0,1@1,2@1 --no-pci --file-prefix "$prefix" --huge-unlink \
  -- --stacks 2 --tcp_conn_count 256 --mbuf_count_per_conn 170 --nic_rxqueue_size 512 --nic_txqueue_size 512 \
     --pattern burst --hold 8 </dev/null >"$log" 2>"$log.err" &
pid=$!
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -f "$log" "$log.err" "$conf"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in $(seq 100); do
  grep -q '"ready":true' "$log" && break
  kill -0 "$pid" 2>/dev/null || { echo "gzload failed to start:" >&2; tail -5 "$log.err" >&2; exit 1; }
  sleep 0.1
done
grep -q '"ready":true' "$log" || { echo "gzload did not become ready" >&2; exit 1; }
# The dashboard and /metrics, recording into gzmem-demo.db (kept, to browse history later).
"${gzmem[@]}" serve "$prefix" --db "${DB:-gzmem-demo.db}" --port "${PORT:-9465}" -i 1 >"$log.serve" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do grep -q 'serving' "$log.serve" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*serving \(http[^ ]*\).*/\1/p' "$log.serve")
rm -f "$log.serve"
echo "gzload pid $pid (prefix $prefix, preload libgzmem.so) is running; gzmem shows it every second. Ctrl-C stops all." >&2
echo "Dashboard: ${url:-(gzmem serve did not start; is port ${PORT:-9465} taken? PORT=<n> make demo)}   Prometheus: ${url}metrics" >&2
echo "Try also: node bin/gzmem.js show $pid    node bin/gzmem.js list    node bin/gzmem.js hugepages" >&2
sleep 1
"${gzmem[@]}" lstack show "$pid" -m -i 1 ${COUNT:-}
