"""One broker per database (issue 8, item 3): a second `muster broker` on the same database refuses
to start and names the live one's pid; the live one goes on serving and keeps its pid file."""
from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import MUSTER_BIN, Peer, free_port


def test_a_second_broker_on_the_same_database_refuses_and_names_the_first(make_broker, zmq_ctx):
    broker = make_broker()
    pid_file = Path(str(broker.db) + ".pid")
    live_pid = broker.child.proc.pid
    assert pid_file.read_text().strip() == str(live_pid)

    second = subprocess.run([str(MUSTER_BIN), "broker", "--config", str(broker.config), "--db", str(broker.db),
                             "--endpoint", f"tcp://127.0.0.1:{free_port()}", "--insecure"],
                            capture_output=True, text=True, timeout=30, cwd=broker.workdir)
    assert second.returncode == 3, (second.returncode, second.stdout, second.stderr)
    assert f"in use by another muster broker (pid {live_pid})" in second.stderr, second.stderr
    assert "listening" not in second.stdout

    # The first one is untouched: its pid file is still there and it still serves.
    assert pid_file.read_text().strip() == str(live_pid)
    peer = Peer(broker.endpoint, "py-after-second", ["intake"], ctx=zmq_ctx)
    assert peer.hello().command == "WELCOME"
    peer.close()
    assert broker.stop() == 0
    assert not pid_file.exists(), "the owner removes its pid file on a clean stop"
