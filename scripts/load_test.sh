#!/usr/bin/env bash
# HTTP load test of `twotower serve` on loopback: starts the server on a free port of 127.0.0.1,
# runs wrk with keep-alive connections POSTing /recommend for known users, prints requests/s,
# latency percentiles, errors and the server's resident memory at start and end, then stops the
# server with SIGTERM. Every step is bounded in time.
#
#   scripts/load_test.sh --export DIR --users FILE [--index exact|hnsw] [--threads 2]
#                        [--connections 32] [--duration 10s] [--k 10] [--server-cmd "CMD"]
#
# FILE holds known user ids, one a line. --server-cmd replaces `build/twotower serve --export DIR
# --index I --threads T --port 0` (any server that logs "http://127.0.0.1:PORT" once it listens).
# --threads is serve's request workers (default: the machine's cores); --connections is wrk's.
set -euo pipefail
cd "$(dirname "$0")/.."

export_dir="" users="" index=exact threads="" connections=32 duration=10s k=10 server_cmd=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --export) export_dir=$2 ;;
    --users) users=$2 ;;
    --index) index=$2 ;;
    --threads) threads=$2 ;;
    --connections) connections=$2 ;;
    --duration) duration=$2 ;;
    --k) k=$2 ;;
    --server-cmd) server_cmd=$2 ;;
    *) echo "load_test.sh: unknown argument \"$1\", expected --export, --users, --index, --threads," \
            "--connections, --duration, --k or --server-cmd" >&2; exit 2 ;;
  esac
  shift 2
done
[[ -n "$users" && -s "$users" ]] || { echo "load_test.sh: --users: got \"$users\", expected a file of user ids" >&2; exit 2; }
threads=${threads:-$(nproc)}
if [[ -z "$server_cmd" ]]; then
  [[ -n "$export_dir" ]] || { echo "load_test.sh: --export is required" >&2; exit 2; }
  server_cmd="build/twotower serve --export $export_dir --index $index --threads $threads --host 127.0.0.1 --port 0"
fi
command -v wrk > /dev/null || { echo "load_test.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }

readonly kStartSeconds=120 kStopSeconds=30
log=$(mktemp)
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2> /dev/null; then
    kill -TERM "$server_pid"
    for _ in $(seq $((kStopSeconds * 10))); do kill -0 "$server_pid" 2> /dev/null || break; sleep 0.1; done
    kill -0 "$server_pid" 2> /dev/null && { echo "server did not stop in ${kStopSeconds}s: killing it" >&2; kill -KILL "$server_pid"; }
  fi
  rm -f "$log"
}
trap stop_server EXIT

echo "== server: $server_cmd"
$server_cmd > "$log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq $((kStartSeconds * 10))); do
  port=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | sed 's/.*://') || true
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2> /dev/null || { cat "$log" >&2; echo "server exited before listening" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { cat "$log" >&2; echo "server did not listen within ${kStartSeconds}s" >&2; exit 1; }
rss() { awk '/VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$server_pid/status"; }

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== server on 127.0.0.1:$port, resident $(rss)"
wrk_cmd=(wrk -t1 -c"$connections" -d"$duration" --latency -s scripts/load_test.lua "http://127.0.0.1:$port" -- "$users" "$k")
echo "== ${wrk_cmd[*]}"
seconds=$(echo "$duration" | sed 's/s$//; s/m$/*60/; s/h$/*3600/' | bc)
timeout $((seconds + 60)) "${wrk_cmd[@]}" | sed -n '/^requests /,$p'
echo "== server resident after the run: $(rss)"
