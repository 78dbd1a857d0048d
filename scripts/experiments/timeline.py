"""Reads the stamps of a broker built with timeline.patch: each stage's share of the steady
part of the run (from the fourth answered batch to the last), on the broker's thread and the
writer's, and each batch's way through the writer. Wall time, not CPU: a thread preempted inside
a stage is counted in it."""
import statistics
import sys
from collections import Counter

stamps = []
for line in open(sys.argv[1]):
    t, what, batch, n = line.split()
    stamps.append((int(t), what, int(batch), int(n)))

answered = [t for t, what, _, n in stamps if what == "complete1" and n > 0]
if len(answered) < 5:
    sys.exit("too few answered batches to find a steady part")
start, end = answered[3], answered[-1]
window = end - start

# Stage: its first stamp → its last, and the thread it runs on.
stages = [
    ("wait0", "wait1", "broker", "waits for the socket or the writer"),
    ("full0", "full1", "broker", "waits, 3 batches in flight"),
    ("read", "session", "broker", "reads and parses; sessions"),
    ("session", "decided", "broker", "decides (the core, replies, DISPATCH bodies)"),
    ("s-sealed", "s-keys", "broker", "notes the replies in flight"),
    ("s-receipts", "s-sealed", "broker", "seals the batch"),
    ("complete0", "complete1", "broker", "answers a durable batch"),
    ("deliver0", "deliver1", "broker", "sends pushes"),
    ("commit0", "commit1", "writer", "commits a batch"),
]
opened, total, count = {}, Counter(), Counter()
in_writer_commit = False
commit_in_writer = 0
for t, what, batch, n in stamps:
    for first, last, _, _ in stages:
        if what == first:
            opened[first] = t
        elif what == last and opened.get(first) is not None:
            if start <= opened[first] and t <= end:
                total[first] += t - opened[first]
                count[first] += 1
            opened[first] = None
    # COMMIT, the statement: its share of the writer's commits (WAL write and fsync).
    if what == "commit0":
        in_writer_commit = True
    elif what == "commit1":
        in_writer_commit = False
    elif what == "COMMIT0":
        opened["COMMIT"] = t if in_writer_commit else None
    elif what == "COMMIT1" and opened.get("COMMIT") is not None:
        if start <= opened["COMMIT"] and t <= end:
            commit_in_writer += t - opened["COMMIT"]
        opened["COMMIT"] = None

print(f"steady part: {window / 1e6:.0f} ms")
for first, _, thread, name in stages:
    print(f"  {thread:6s} {name:46s} {total[first] / 1e6:8.1f} ms  {100 * total[first] / window:5.1f} %  ({count[first]}×)")
print(f"  writer {'of which COMMIT (WAL write and fsync)':46s} {commit_in_writer / 1e6:8.1f} ms  {100 * commit_in_writer / window:5.1f} %")

submitted = {b: (t, n) for t, what, b, n in stamps if what == "submit"}
began = {b: t for t, what, b, _ in stamps if what == "commit0"}
ended = {b: t for t, what, b, _ in stamps if what == "commit1"}
taken = {b: t for t, what, b, _ in stamps if what == "complete0"}
batches = [(submitted[b][1], began[b] - submitted[b][0], ended[b] - began[b], taken[b] - ended[b])
           for b in began if b in submitted and b in ended and b in taken and start <= submitted[b][0] <= end]
if batches:
    print(f"batches: {len(batches)}, requests answered each: median {statistics.median(b[0] for b in batches):.0f}")
    for i, name in [(1, "waiting for the writer"), (2, "committing"), (3, "committed, not yet answered")]:
        ms = [b[i] / 1e6 for b in batches]
        print(f"  {name:28s} median {statistics.median(ms):6.2f} ms  mean {statistics.mean(ms):6.2f}  max {max(ms):6.2f}")
