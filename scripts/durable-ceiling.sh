#!/usr/bin/env bash
# What SQLite alone allows the durable job on this machine, beside RabbitMQ and Muster in the same
# minutes (issue 16): scripts/durable-ceiling.c writes the rows of N SUBMITs as a broker of this
# design must, in batches of 256 (the broker's under load), synchronous=FULL — the rows a SUBMIT
# writes today, the four rows target 4 asks for, and those four with today's three facts in their
# one events row (`onerow`) — in one process, and target 4's and onerow's in two at once (a
# database file each, as a broker sharded by case id would have). Nothing is read,
# decided, hashed into the chain or answered, and no client runs, so a broker's figure is below
# each ceiling. REPS runs, interleaved with `muster bench peers --reps 1`.
#
#   scripts/durable-ceiling.sh [MUSTER_BINARY]      REPS=3 SUBMITS=200000 BATCH=256
#
# Needs gcc and libsqlite3-dev; RabbitMQ and NATS as `muster bench peers` needs them. Which of
# today's parts costs what: the program alone, with OMIT (its header says how).
set -euo pipefail
BIN=$(realpath "${1:-$(dirname "$0")/../.build/release/muster}")
cd "$(dirname "$0")/.."
REPS=${REPS:-3}; SUBMITS=${SUBMITS:-200000}; BATCH=${BATCH:-256}
work=$(mktemp -d /tmp/muster-ceiling.XXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/ceiling" scripts/durable-ceiling.c -lsqlite3
field() { grep -o "$1=[0-9.]*" "$2" | cut -d= -f2; }
# Two processes of rows $1 at once, a database file each: every SUBMIT over the longer of the two
# runs. Called in $(…), where set -e is off: each step's failure is returned.
both() {
    "$work/ceiling" "$work/a.db" "$SUBMITS" "$BATCH" "$1" > "$work/a.out" & local first=$!
    "$work/ceiling" "$work/b.db" "$SUBMITS" "$BATCH" "$1" > "$work/b.out" || return 1
    wait "$first" || return 1
    awk -v a="$(field secs "$work/a.out")" -v b="$(field secs "$work/b.out")" -v n="$SUBMITS" \
        'BEGIN { printf "%d", 2 * n / (a > b ? a : b) }'
}
for rep in $(seq "$REPS"); do
    peers=$("$BIN" bench peers --reps 1 2>&1) || { echo "$peers" >&2; exit 1; }
    # The table's rows: name, runs, acknowledged/s (the ratio lines below it start with a name too).
    rmq=$(awk '$1 == "RabbitMQ" && $2 ~ /^[0-9]+$/ { print $3 }' <<< "$peers")
    muster=$(awk '$1 == "Muster" && $2 ~ /^[0-9]+$/ { print $3 }' <<< "$peers")
    [[ "$rmq" =~ ^[0-9]+$ && "$muster" =~ ^[0-9]+$ ]] || { echo "no RabbitMQ or Muster figure in:" >&2; echo "$peers" >&2; exit 1; }
    "$work/ceiling" "$work/a.db" "$SUBMITS" "$BATCH" today > "$work/today.out"
    "$work/ceiling" "$work/a.db" "$SUBMITS" "$BATCH" target4 > "$work/one.out"
    "$work/ceiling" "$work/a.db" "$SUBMITS" "$BATCH" onerow > "$work/onerow.out"
    two=$(both target4); tworow=$(both onerow)
    awk -v rep="$rep" -v r="$rmq" -v m="$muster" -v two="$two" \
        -v today="$(field submits/s "$work/today.out")" -v tu="$(field user_us "$work/today.out")" -v tk="$(field kernel_us "$work/today.out")" \
        -v one="$(field submits/s "$work/one.out")" -v ou="$(field user_us "$work/one.out")" -v ok="$(field kernel_us "$work/one.out")" \
        -v row="$(field submits/s "$work/onerow.out")" -v ru="$(field user_us "$work/onerow.out")" -v rk="$(field kernel_us "$work/onerow.out")" \
        -v tworow="$tworow" 'BEGIN {
        printf "run %d: RabbitMQ %d acknowledged/s, Muster %d (%.2f×); SQLite alone: today'"'"'s rows %d SUBMITs/s (%.2f×; CPU a SUBMIT %.1f µs user + %.1f kernel), target 4'"'"'s %d (%.2f×; %.1f + %.1f µs), two of those at once %d (%.2f×), onerow %d (%.2f×; %.1f + %.1f µs), two of onerow at once %d (%.2f×)\n",
               rep, r, m, m / r, today, today / r, tu, tk, one, one / r, ou, ok, two, two / r, row, row / r, ru, rk, tworow, tworow / r }'
done
