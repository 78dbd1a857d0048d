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
# One line a thread: id, name, ns on a CPU, ns waiting on a run queue, time slices; the first
# line the time (ns) the snapshot began.
snap() {
    date +%s%N
    for t in /proc/"$broker"/task/* $(pgrep -f "$work/musterc" | sed 's|^|/proc/|'); do
        { echo "${t##*/} $(tr ' ' _ < "$t/comm") $(cat "$t/schedstat")"; } 2>/dev/null || true
    done
}
# Shares of the measured interval, joined on the thread id (a thread that came or went between
# the snapshots is left out); threads under 1 % on a CPU and in the queue together are not shown.
(
    sleep 1; snap > "$work/before"; sleep 2; snap > "$work/after"
    awk 'FNR == 1 { if (NR == 1) t0 = $1; else span = $1 - t0; next }
         NR == FNR { on[$1] = $3; queued[$1] = $4; slices[$1] = $5; next }
         ($1 in on) { a = 100 * ($3 - on[$1]) / span; q = 100 * ($4 - queued[$1]) / span
                      if (a + q > 1) printf "%-16s on a CPU %5.1f %%   waiting for one %5.1f %%   slices %d\n", $2, a, q, $5 - slices[$1] }' \
        "$work/before" "$work/after"
) &
sampler=$!
harness_intake
wait "$sampler"
grep -o "accepted_msgs/s=[0-9]*" "$work/intake.out"
