#!/usr/bin/env bash
# Where a steady rate's tail comes from: every message's SUBMIT → DISPATCH latency in arrival
# order, and the runs of slow ones (stalls) by when they came and how many cases were in by then.
# Percentiles alone hide whether the slow messages are spread out (the run queue, fsyncs) or come
# together (the broker held up at one moment: a table growing, a checkpoint).
#
#   scripts/stalls.sh [MUSTER_BINARY]      N=30000 RATE=1000 SLOW_MS=2 SYNC= HARNESS=../shared/bench-peers
#
# The harness's C client, copied and changed to write each message's arrival and latency
# (ms) to $work/latency.txt; the harness itself is left as it is. Needs gcc with libzmq3-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/muster}; N=${N:-30000}; RATE=${RATE:-1000}; SLOW_MS=${SLOW_MS:-2}
. scripts/harness-job.sh
harness_setup stalls
python3 - "$HARNESS/musterc.c" "$work/musterc_each.c" "$work/latency.txt" <<'EOF'
import sys
source, out, dump = sys.argv[1:]
s = open(source).read()
edits = [("uint64_t*lat=malloc(8*N); long got=0", "uint64_t*lat=malloc(8*N); uint64_t*arr=malloc(8*N); long got=0"),
         ("if(p) lat[got]=t-strtoull(p+1,0,10); }", "if(p) lat[got]=t-strtoull(p+1,0,10); } arr[got]=t;"),
         ("double secs=(tl-t0)/1e9;", 'double secs=(tl-t0)/1e9; { FILE*f=fopen("%s","w"); for(long i=0;i<got;i++) '
          'fprintf(f,"%%.3f %%.3f\\n",(arr[i]-t0)/1e6,lat[i]/1e6); fclose(f); }' % dump)]
for old, new in edits:
    if old not in s: sys.exit(f"the harness's musterc.c changed: {old!r} not found")
    s = s.replace(old, new)
open(out, "w").write(s)
EOF
gcc -O2 -o "$work/musterc" "$work/musterc_each.c" -lzmq
harness_broker
harness_agency
harness_intake
grep -o 'e2e_p50_ms=[^ ]* e2e_p99_ms=[^ ]*' "$work/agency.out" | sed 's/^/agency: /' || true
python3 - "$work/latency.txt" "$SLOW_MS" <<'EOF'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
slow_ms = float(sys.argv[2])
ordered = sorted(l for _, l in rows)
n = len(ordered)
if not n: sys.exit("the agency received no DISPATCH")
print(f"{n} messages: p99 {ordered[int(n * .99)]:.2f} ms, p99.9 {ordered[int(n * .999)]:.2f} ms, max {ordered[-1]:.1f} ms; "
      f"{sum(l > slow_ms for l in ordered)} over {slow_ms:g} ms")
# Slow messages less than 20 ms apart are one stall; "case" is the DISPATCH's arrival index
# (the cases submitted by then, give or take those in flight).
stalls, last = [], -1e9
for i, (t, l) in enumerate(rows):
    if l <= slow_ms: continue
    if t - last > 20: stalls.append([t, i + 1, l, 1])
    else: stalls[-1][2] = max(stalls[-1][2], l); stalls[-1][3] += 1
    last = t
big = [s for s in stalls if s[2] > 5]
print(f"{len(stalls)} runs of slow messages; {len(big)} held any message over 5 ms:")
for t, case, worst, count in big:
    print(f"  at {t / 1000:6.2f} s (case {case}): {count} slow, the worst {worst:.1f} ms")
EOF
