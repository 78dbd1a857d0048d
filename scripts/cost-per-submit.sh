#!/usr/bin/env bash
# What a SUBMIT of the shared harness's durable job costs the broker natively, beside the
# instruction count of scripts/instructions-per-submit.sh: CPU split into user and kernel time,
# minor page faults and resident memory kept, how busy the whole machine was, the agency's
# SUBMIT → DISPATCH latency, and (with a RATE, where each SUBMIT is a commit of its own) the WAL
# frames a commit writes, by B-tree.
#
#   scripts/cost-per-submit.sh [MUSTER_BINARY]      N=20000 W=1000 RATE=0 SYNC= HARNESS=../shared/bench-peers
#
# Times come from /proc/PID/stat (clock ticks) between the agency's readiness and its last
# DISPATCH: noisy on a shared VM, so compare binaries interleaved. Needs gcc with libzmq3-dev and
# python3; the frame count reads the WAL after a kill -9, which leaves it as the commits wrote it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/muster}; N=${N:-20000}
. scripts/harness-job.sh
harness_setup cost
harness_broker
harness_agency
# Each thread's user + kernel ticks (its name may hold a space: the fields after the ")").
# The main thread is the broker's decide thread; the others carry their names (muster-writer, …;
# none holds a ")", after which the fields are read).
threads() { for t in /proc/"$broker"/task/*; do
    name=$([ "${t##*/}" = "$broker" ] && echo main || tr ' ' _ < "$t/comm")
    echo "$name $(cut -d')' -f2 "$t/stat" | awk '{print $12 + $13}')"; done; }
read -r -a before < "/proc/$broker/stat"; threads > "$work/threads.before"; started=$(date +%s%N)
read -r -a box_before < /proc/stat
harness_intake
read -r -a box_after < /proc/stat
read -r -a after < "/proc/$broker/stat"; threads > "$work/threads.after"; ended=$(date +%s%N)
kill -9 "$broker"; wait "$broker" 2>/dev/null || true
tick=$(getconf CLK_TCK); page=$(getconf PAGESIZE)
per() { echo $(( ($2 - $1) * 1000000 / tick / N )); }
echo "per SUBMIT (N=$N, W=$W, RATE=$RATE): user $(per "${before[13]}" "${after[13]}") µs, kernel $(per "${before[14]}" "${after[14]}") µs," \
     "minor faults $(( (after[9] - before[9]) * 100 / N ))/100, resident kept $(( (after[23] - before[23]) * page / N )) B"
# Where the broker's CPU went: µs a SUBMIT and the share of one core over the run, by thread.
awk -v n="$N" -v tick="$(getconf CLK_TCK)" -v wall=$(( (ended - started) / 1000 )) '
    FNR == NR { was[$1] += $2; next } { now[$1] += $2 }
    END { line = "threads:"; for (t in now) { d = (now[t] - was[t]) * 1e6 / tick; if (d > 0) line = line sprintf(" %s %d µs (%.0f %% of a core)", t, d / n, 100 * d / wall) }; print line }' \
    "$work/threads.before" "$work/threads.after"
# The whole machine over the same run (every process, from /proc/stat's first line): whether the
# two cores were full. A thread's ticks are sampled at the timer interrupt, and on a VM they can
# add up to less than the machine's busy time: read them as shares, this line as the total.
# Busy is all but idle and I/O wait (steal counts as busy: the cores were not free).
awk -v a="${box_before[*]}" -v b="${box_after[*]}" 'BEGIN {
    split(a, x); split(b, y); split("user nice system idle iowait irq softirq steal", name)
    for (i = 1; i <= 8; i++) { d[i] = y[i + 1] - x[i + 1]; total += d[i] }
    if (total == 0) exit
    line = sprintf("machine: %.0f %% busy (", 100 * (total - d[4] - d[5]) / total)
    for (i = 1; i <= 8; i++) line = line sprintf("%s%s %.1f", i > 1 ? ", " : "", name[i], 100 * d[i] / total)
    print line ")" }'
grep -o 'e2e_p50_ms=[^ ]* e2e_p99_ms=[^ ]*' "$work/agency.out" | sed 's/^/agency: /' || true
[ "$RATE" -gt 0 ] || exit 0
# One commit a SUBMIT: which B-trees' pages its WAL frames carry, over every commit the log still
# holds (tens, since it last started over): SQLite rebalances an index written at its end in
# stretches, so the last few commits alone can read a frame or more high.
python3 - "$work/m.db" <<'EOF'
import collections, shutil, sqlite3, struct, sys
db = sys.argv[1]
wal = open(db + "-wal", "rb").read()
_, _, size, _, salt1, salt2, _, _ = struct.unpack(">8I", wal[:32])
commits, frame, at = [], [], 32
while at + 24 + size <= len(wal):
    page, commit, s1, s2 = struct.unpack(">4I", wal[at:at + 16])
    if (s1, s2) != (salt1, salt2): break
    frame.append(page); at += 24 + size
    if commit: commits.append(frame); frame = []
copy = db + ".copy"  # dbstat reads the pages through the WAL; a copy keeps the original as written
shutil.copy(db, copy); shutil.copy(db + "-wal", copy + "-wal")
names = {p: n for n, p in sqlite3.connect(copy).execute("SELECT name, pageno FROM dbstat")}
if not commits: sys.exit("no commit in the WAL (checkpointed away?)")
count = collections.Counter(names.get(p, "?") for c in commits for p in c)
frames = sum(map(len, commits)) / len(commits)
print(f"WAL per commit ({len(commits)} commits): {frames:.1f} frames of {size} B = {frames * (size + 24):.0f} B;",
      ", ".join(f"{n} {k / len(commits):.1f}" for n, k in count.most_common()))
EOF
