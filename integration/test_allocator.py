"""What every allocation of the broker goes through (issue 16, docs/PERFORMANCE.md's eleventh round):
TCMalloc, since glibc's malloc and free were ~10 % of the broker's CPU a lifecycle, and SQLite
without its global memory statistics, whose mutex every sqlite3_malloc of every thread took. The
broker says at start whose malloc the dynamic linker hands every library (Swift's runtime, SQLite,
libzmq) and whether SQLite counts its memory, both asked of the running process."""
from __future__ import annotations

import re
from pathlib import Path


def start_line(broker, pattern: str) -> str:
    """The value a start-up line of the broker's log gives (logged before it listens)."""
    m = re.search(pattern, broker.child.stderr_path.read_text(encoding="utf-8", errors="replace"))
    assert m, f"no /{pattern}/ in the broker's log:\n{broker.stderr_tail()}"
    return m.group(1)


def test_the_broker_allocates_through_tcmalloc(make_broker):
    broker = make_broker()
    malloc = start_line(broker, r"malloc=(.+?) \[muster\] allocator")
    assert re.fullmatch(r"gperftools \d+\.\d+.* \(TCMalloc\)", malloc), malloc
    maps = Path(f"/proc/{broker.child.proc.pid}/maps").read_text()
    assert "libtcmalloc_minimal.so" in maps


def test_sqlite_keeps_no_memory_statistics_in_the_broker(make_broker):
    broker = make_broker()
    # Asked of SQLite after the store opened: with the statistics on it would count its page cache.
    assert start_line(broker, r"memory_statistics=(\w+) \[muster\] sqlite") == "off"
