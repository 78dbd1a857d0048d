"""Reads the stamps of a broker built with timeline.patch.

Default: each stage's share of the steady part of the run (from the fourth answered batch to
the last), on the broker's thread and the writer's, per request answered in it, and each
batch's way through the writer. --lone: the run was paced (RATE=…), each request alone in its
batch; each stage's median and percentiles per loop turn instead.

Wall time, not CPU: a thread preempted inside a stage is counted in it."""
import statistics
import sys

stamps = []
for line in open(sys.argv[1]):
    t, what, batch, n = line.split()
    stamps.append((int(t), what, int(batch), int(n)))
lone = "--lone" in sys.argv[2:]

# Stage: its first stamp, its last, the thread it runs on, what it is. A broker stage still
# open at the loop's next wait was left by an early return (a batch with nothing to commit):
# abandoned, not paired with a later stamp.
stages = [
    ("wait0", "wait1", "broker", "waits for the socket or the writer"),
    ("full0", "full1", "broker", "waits, 3 batches in flight"),
    ("read", "session", "broker", "reads and parses; sessions"),
    ("session", "decided", "broker", "decides (the core, replies, DISPATCH bodies)"),
    ("decided", "submit", "broker", "seals the batch, hands it over"),
    ("here0", "here1", "broker", "commits on its own thread"),
    ("complete0", "complete1", "broker", "answers a durable batch"),
    ("deliver0", "deliver1", "broker", "sends pushes"),
    ("commit0", "commit1", "writer", "commits a batch"),
]
broker_firsts = {first for first, _, thread, _ in stages if thread == "broker"} - {"wait0", "full0"}
opened, spans = {}, {first: [] for first, _, _, _ in stages}
spans["COMMIT"], spans["COMMIT here"] = [], []
inside = None  # the commit under way: "writer", "here" or None
for t, what, batch, n in stamps:
    if what in ("wait0", "full0"):
        for first in broker_firsts:
            opened.pop(first, None)
    for first, last, _, _ in stages:
        if what == first:
            opened[first] = (t, n)
        elif what == last and first in opened:
            began, count = opened.pop(first)
            spans[first].append((began, t, count if first in ("read", "session") else n))
    # The COMMIT statement (WAL write and fsync) of a commit; look-ups' read transactions
    # commit too, outside any commit: not counted.
    if what in ("commit0", "here0"):
        inside = "writer" if what == "commit0" else "here"
    elif what in ("commit1", "here1"):
        inside = None
    elif what == "COMMIT0":
        opened["COMMIT"] = (t, inside)
    elif what == "COMMIT1" and "COMMIT" in opened:
        began, where = opened.pop("COMMIT")
        if where:
            spans["COMMIT" if where == "writer" else "COMMIT here"].append((began, t, 0))

answered = [(t, n) for t, what, _, n in stamps if what == "complete1" and n > 0]
if len(answered) < 5:
    sys.exit("too few answered batches")


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


if lone:
    print(f"{len(answered)} answered batches; each stage per loop turn, µs: median, p90, p99 (count)")
    rows = [(first, thread, name) for first, _, thread, name in stages]
    rows += [("COMMIT here", "broker", "… of which the COMMIT statement"), ("COMMIT", "writer", "… of which the COMMIT statement")]
    for first, thread, name in rows:
        # Deciding: only the turns that decided a request (the agency's RECEIVEDs decide nothing).
        us = [(end - began) / 1e3 for began, end, count in spans[first] if first != "session" or count > 0]
        if us:
            print(f"  {thread:6s} {name:46s} {statistics.median(us):8.0f} {quantile(us, .9):8.0f} {quantile(us, .99):8.0f}  ({len(us)})")
    sys.exit()

start, end = answered[3][0], answered[-1][0]
window = end - start
requests = sum(n for t, n in answered[4:])
print(f"steady part: {window / 1e6:.0f} ms, {requests} requests answered in it")
print(f"  {'':6s} {'':46s} {'ms':>8s}  {'share':>7s}  {'µs a request':>12s}")


def line(thread, name, spent, count=None):
    times = f"  ({count}×)" if count is not None else ""
    print(f"  {thread:6s} {name:46s} {spent / 1e6:8.1f}  {100 * spent / window:5.1f} %  {spent / 1e3 / requests:12.1f}{times}")


for first, _, thread, name in stages:
    inside_window = [(b, e) for b, e, _ in spans[first] if start <= b and e <= end]
    line(thread, name, sum(e - b for b, e in inside_window), len(inside_window))
for key, thread in [("COMMIT", "writer"), ("COMMIT here", "broker")]:
    line(thread, "… of which the COMMIT statement", sum(e - b for b, e, _ in spans[key] if start <= b and e <= end))

submitted = {b: (t, n) for t, what, b, n in stamps if what == "submit"}
began = {b: t for t, what, b, _ in stamps if what == "commit0"}
ended = {b: t for t, what, b, _ in stamps if what == "commit1"}
taken = {b: t for t, what, b, _ in stamps if what == "complete0"}
batches = [(submitted[b][1], began[b] - submitted[b][0], ended[b] - began[b], taken[b] - ended[b])
           for b in began if b in submitted and b in ended and b in taken and start <= submitted[b][0] <= end]
if batches:
    print(f"batches through the writer: {len(batches)}, requests answered each: median {statistics.median(b[0] for b in batches):.0f}")
    for i, name in [(1, "waiting for the writer"), (2, "committing"), (3, "committed, not yet answered")]:
        ms = [b[i] / 1e6 for b in batches]
        print(f"  {name:28s} median {statistics.median(ms):6.2f} ms  mean {statistics.mean(ms):6.2f}  max {max(ms):6.2f}")
