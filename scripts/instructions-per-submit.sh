#!/usr/bin/env bash
# Instructions the broker executes per SUBMIT of the shared harness's durable job, counted by
# callgrind: repeatable to a percent on a noisy 2-core VM where time is not (docs/PERFORMANCE.md).
# The broker runs under valgrind; the harness's C clients (musterc intake and agency) run natively;
# counting starts once the agency is connected and stops when it has every DISPATCH.
#
#   scripts/instructions-per-submit.sh [MUSTER_BINARY]      N=3000 W=1000 RATE=0 SYNC= HARNESS=../shared/bench-peers
#
# RATE>0: SUBMITs paced at RATE a second (one commit each, as at a quiet hour) instead of W in flight.
# Needs valgrind and gcc with libzmq3-dev. Valgrind cannot read Swift's DWARF, so the binary is
# copied without it (symbols kept, for callgrind_annotate). Counts user-space instructions only:
# the kernel's writes and fsyncs are not in them.
# Valgrind's CPU has no SHA extensions: BoringSSL hashes the log's chain with its AVX code here,
# ~7 % of a lifecycle's count and ~11 % of a SUBMIT's, where the machine uses SHA-NI at about a
# tenth of that (perf: 0.75 % of the broker's samples). Compare counts with each other, not
# shares of time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/muster}; N=${N:-3000}
. scripts/harness-job.sh
harness_setup instructions
strip --strip-debug -o "$work/muster" "$BIN"
harness_broker valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$work/muster"
harness_agency
callgrind_control -z "$broker" > /dev/null 2>&1
harness_intake
grep -v ready "$work/intake.out"
callgrind_control -d "$broker" > /dev/null 2>&1
kill -TERM "$broker"; wait "$broker" 2>/dev/null || true
dump=$(ls -t "$work"/callgrind.out.* | head -1)
total=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
echo "instructions per SUBMIT: $((total / N))   (N=$N, W=$W, RATE=$RATE; profile: callgrind_annotate $dump${KEEP:+, kept})"
