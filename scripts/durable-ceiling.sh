#!/usr/bin/env bash
# What SQLite alone allows the durable job on this machine, beside RabbitMQ and Muster in the same
# minutes (issue 16): scripts/durable-ceiling.c writes the rows of N SUBMITs as a broker of this
# design must, in batches of 1,000, synchronous=FULL — the rows a SUBMIT writes today, and the
# four rows target 4 asks for — on one core, and target 4's on both (a database file a core).
# Nothing is read, decided, hashed into the chain or answered, and no client runs, so a broker's
# figure is below each ceiling. REPS runs, interleaved with `muster bench peers --reps 1`.
#
#   scripts/durable-ceiling.sh [MUSTER_BINARY]      REPS=3 SUBMITS=200000
#
# Needs gcc and libsqlite3-dev; RabbitMQ and NATS as `muster bench peers` needs them. Which of
# today's parts costs what: the program alone, with OMIT (its header says how).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/muster}; REPS=${REPS:-3}; SUBMITS=${SUBMITS:-200000}
work=$(mktemp -d /tmp/muster-ceiling.XXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/ceiling" scripts/durable-ceiling.c -lsqlite3
field() { grep -o "$1=[0-9.]*" | cut -d= -f2; }
for rep in $(seq "$REPS"); do
    peers=$("$BIN" bench peers --reps 1 2>&1)
    rmq=$(awk '$1 == "RabbitMQ" { print $3 }' <<< "$peers"); muster=$(awk '$1 == "Muster" { print $3 }' <<< "$peers")
    "$work/ceiling" "$work/a.db" "$SUBMITS" 1000 today > "$work/today.out"
    "$work/ceiling" "$work/a.db" "$SUBMITS" 1000 target4 > "$work/one.out"
    "$work/ceiling" "$work/a.db" "$SUBMITS" 1000 target4 > "$work/a.out" & first=$!
    "$work/ceiling" "$work/b.db" "$SUBMITS" 1000 target4 > "$work/b.out"
    wait "$first"
    awk -v rep="$rep" -v r="$rmq" -v m="$muster" \
        -v today="$(field submits/s < "$work/today.out")" -v todayCPU="$(field cpu_us < "$work/today.out")" \
        -v one="$(field submits/s < "$work/one.out")" -v oneCPU="$(field cpu_us < "$work/one.out")" \
        -v two="$(( $(field submits/s < "$work/a.out") + $(field submits/s < "$work/b.out") ))" 'BEGIN {
        printf "run %d: RabbitMQ %d acknowledged/s, Muster %d (%.2f×); SQLite alone: today'"'"'s rows %d SUBMITs/s a core (%.2f×, %.1f µs of CPU a SUBMIT), target 4'"'"'s %d (%.2f×, %.1f µs), on both cores %d (%.2f×)\n",
               rep, r, m, m / r, today, today / r, todayCPU, one, one / r, oneCPU, two, two / r }'
done
