#!/usr/bin/env bash
# Instructions the broker executes per full lifecycle (SUBMIT, ACK, RESOLVE, VERIFY, EVALUATE …
# closed: 6 requests and a push, `muster bench lifecycle`), counted by callgrind: repeatable on a
# noisy VM where time is not. The broker runs under valgrind, the bench natively; counting
# starts once the broker is ready and stops when the bench has closed every case.
#
#   scripts/instructions-per-lifecycle.sh [MUSTER_BINARY]      CASES=2000
#
# Needs valgrind. User-space instructions only (the kernel's writes and fsyncs are not in them).
# Valgrind's CPU has no SHA extensions: BoringSSL hashes the log's chain with its AVX code here,
# ~7 % of a lifecycle's count and ~11 % of a SUBMIT's, where the machine uses SHA-NI at about a
# tenth of that (perf: 0.75 % of the broker's samples). Compare counts with each other, not
# shares of time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/muster}; CASES=${CASES:-2000}
work=$(mktemp -d /tmp/muster-lifecycle.XXXXXX)
ep="tcp://127.0.0.1:$((20000 + RANDOM % 20000))"
strip --strip-debug -o "$work/muster" "$BIN"
# Under valgrind the broker is ~50× slower: a bench peer idle that long would outlive its heartbeat.
cp -r config "$work/config" && sed -i 's/^  heartbeat: .*/  heartbeat: 600s/' "$work/config/muster.yaml"
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$work/muster" broker --insecure \
    --config "$work/config/muster.yaml" --db "$work/m.db" --endpoint "$ep" > "$work/broker.log" 2>&1 &
broker=$!
trap 'kill -9 $broker 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
for _ in $(seq 600); do grep -q "broker ready" "$work/broker.log" && break; sleep 0.1; done
grep -q "broker ready" "$work/broker.log" || { cat "$work/broker.log"; exit 1; }
callgrind_control -z "$broker" > /dev/null 2>&1
"$BIN" bench lifecycle --endpoint "$ep" --cases "$CASES" > "$work/bench.out" 2>&1 || { cat "$work/bench.out"; exit 1; }
grep -i lifecycle "$work/bench.out" | head -1
callgrind_control -d "$broker" > /dev/null 2>&1
kill -TERM "$broker"; wait "$broker" 2>/dev/null || true
dump=$(ls -t "$work"/callgrind.out.* | head -1)
total=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
echo "instructions per lifecycle: $((total / CASES))   (CASES=$CASES; profile: callgrind_annotate $dump${KEEP:+, kept})"
