"""The muster executable allocates through TCMalloc (issue 16, docs/PERFORMANCE.md's eleventh round):
glibc's malloc and free were ~10 % of the broker's CPU a lifecycle. The broker says at start whose
malloc the dynamic linker hands every library (Swift's runtime, SQLite, libzmq), asked of the
running process rather than assumed."""
from __future__ import annotations

import re
from pathlib import Path


def allocator_line(broker) -> str:
    text = broker.child.stderr_path.read_text(encoding="utf-8", errors="replace") if broker.child else ""
    m = re.search(r"malloc=(.+?) \[muster\] allocator", text)
    assert m, f"no allocator line in the broker's log:\n{broker.stderr_tail()}"
    return m.group(1)


def test_the_broker_allocates_through_tcmalloc(make_broker):
    broker = make_broker()
    assert re.fullmatch(r"gperftools \d+\.\d+.* \(TCMalloc\)", allocator_line(broker)), allocator_line(broker)
    maps = Path(f"/proc/{broker.child.proc.pid}/maps").read_text()
    assert "libtcmalloc_minimal.so" in maps

