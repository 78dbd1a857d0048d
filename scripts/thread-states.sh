#!/usr/bin/env bash
# Each broker thread's share of wall time on a CPU and runnable but waiting for one, over two
# seconds of the steady part of the shared harness's durable job (from /proc/PID/task/*/schedstat;
# the C clients' main threads too). A thread on a CPU or waiting for one nearly 100 % of the time
# is the bound; waiting for a CPU means the cores are full.
#
#   scripts/thread-states.sh [MUSTER_BINARY]      N=80000 W=1000 RATE=0 SYNC= HARNESS=../shared/bench-peers
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/muster}; N=${N:-80000}
. scripts/harness-job.sh
harness_setup threads
harness_broker
harness_agency
# name, ns on a CPU, ns waiting on a run queue, time slices
snap() {
    for t in /proc/"$broker"/task/* $(pgrep -f "$work/musterc" | sed 's|^|/proc/|'); do
        echo "$(tr ' ' _ < "$t/comm") $(cat "$t/schedstat")"
    done
}
(
    sleep 1; snap > "$work/before"; sleep 2; snap > "$work/after"
    paste "$work/before" "$work/after" | awk '{ on = ($6 - $2) / 2e7; queued = ($7 - $3) / 2e7
        if (on + queued > 1) printf "%-16s on a CPU %5.1f %%   waiting for one %5.1f %%   slices %d\n", $1, on, queued, $8 - $4 }'
) &
sampler=$!
harness_intake
wait "$sampler"
grep -o "accepted_msgs/s=[0-9]*" "$work/intake.out"
