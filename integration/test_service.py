"""Running Muster as a service (issue 15 item 4), tried: the systemd units of deploy/systemd pass
`systemd-analyze verify` and its offline security review, and their ExecStart lines — run as
written, in a folder laid out as /srv/muster is — start a broker whose /readyz answers, the
centre's screen and an adapter (the instance template) that it welcomes. A backup taken with
`muster backup` while the broker runs restores into a broker that has every case the backup saw
and a log that verifies (docs/OPERATIONS.md, "Running as a service", "Backup and restore")."""
from __future__ import annotations

import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import CONFIG_DIR, MUSTER_BIN, REPO_DIR, Peer, Process, case_body, free_port, run_cli, wait_until

UNITS = REPO_DIR / "deploy" / "systemd"
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def ready(address: str) -> bool:
    try:
        with HTTP.open(f"http://{address}/readyz", timeout=5) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def unit(name: str) -> str:
    return (UNITS / name).read_text(encoding="utf-8").replace("/usr/local/bin/muster", str(MUSTER_BIN))


def exec_start(text: str) -> str:
    return re.search(r"(?m)^ExecStart=(.+)$", text).group(1)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("name", ["muster-broker.service", "muster-web.service", "muster-adapter@.service"])
def test_each_unit_verifies_and_is_sandboxed(name, tmp_path):
    target = tmp_path / name.replace("@.", "@chengguan.")
    target.write_text(unit(name), encoding="utf-8")
    v = subprocess.run(["systemd-analyze", "verify", str(target)], capture_output=True, text=True, timeout=60)
    assert v.returncode == 0 and "error" not in v.stderr.lower(), v.stderr
    s = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(target)], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", s.stdout)
    assert m and float(m.group(1)) <= 2.0, s.stdout[-400:]


def test_the_units_command_lines_run_a_broker_a_screen_and_an_adapter(tmp_path, processes):
    """/srv/muster as the units expect it: config/ and data/ side by side, keys made by muster keys init."""
    root = tmp_path / "srv-muster"
    shutil.copytree(CONFIG_DIR, root / "config")
    broker_port, metrics, web = free_port(), f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    # The shipped endpoint, 7400, moved to a free port in every config that names it.
    for f in [root / "config" / "muster.yaml", *(root / "config" / "adapters").glob("*.yaml")]:
        f.write_text(f.read_text(encoding="utf-8").replace("127.0.0.1:7400", f"127.0.0.1:{broker_port}"), encoding="utf-8")
    (root / "data").mkdir()
    assert run_cli("keys", "init", "--config", "config/muster.yaml", cwd=root).returncode == 0
    env = {"MUSTER_ENDPOINT": f"tcp://127.0.0.1:{broker_port}"}

    def start(name: str, line: str, **extra_env) -> Process:
        line = line.replace("127.0.0.1:9400", metrics).replace("127.0.0.1:8800", web)
        p = Process(["/bin/sh", "-c", line], cwd=root, name=name, env={**env, **extra_env})
        processes.append(p)
        return p

    broker = start("broker", exec_start(unit("muster-broker.service")))
    wait_until(lambda: ready(metrics) or not broker.alive, 20, "the broker's /readyz")
    assert broker.alive, broker.stderr_tail()
    screen = start("web", exec_start(unit("muster-web.service")))
    wait_until(lambda: ready(web) or not screen.alive, 20, "the screen's /readyz")
    assert screen.alive, screen.stderr_tail()
    # The instance template, for the simulated 交通 adapter (config/adapters only), its health port from adapters.env.
    health = f"127.0.0.1:{free_port()}"
    line = exec_start(unit("muster-adapter@.service")).replace("%i", "jiaotong")
    line = re.sub(r"^/bin/sh -c '(.*)'$", r"\1", line).replace("$$", "$")   # systemd's $$ is the shell's $
    adapter = start("adapter", line, MUSTER_HEALTH_jiaotong=health)
    wait_until(lambda: ready(health) or not adapter.alive, 20, "the adapter's /readyz")
    assert adapter.alive, adapter.stderr_tail()
    status = run_cli("status", "--broker", metrics, "--web", web, "--adapter", health)
    assert status.returncode == 0 and status.stdout.count("就绪 ready") == 3, status.stdout
    # JSON logs, as the units ask.
    assert broker.stderr_tail(5).strip().splitlines()[-1].startswith("{"), broker.stderr_tail(5)


def test_a_backup_taken_while_running_restores_with_every_case_it_saw(make_broker, zmq_ctx, tmp_path):
    broker = make_broker(secure=True)
    office = Peer(broker.endpoint, "cli-backup", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    ids = [office.request("SUBMIT", {"case": case_body(f"备份前 {i}", f"BK-{i}")})["case_id"] for i in range(3)]
    backup = tmp_path / "muster-backup.db"
    r = run_cli("backup", "--db", str(broker.db), "--to", str(backup))
    assert r.returncode == 0 and "3 cases" in r.stdout and "integrity ok" in r.stdout, r.stdout + r.stderr
    later = office.request("SUBMIT", {"case": case_body("备份后", "BK-9")})["case_id"]
    again = run_cli("backup", "--db", str(broker.db), "--to", str(backup))
    assert again.returncode != 0 and "never overwritten" in again.stderr, again.stderr
    assert not Path(str(backup) + ".partial").exists()
    office.close()
    broker.stop()

    # Restore: the copy in a (new) database's place, the broker started on it.
    restored = make_broker(secure=True, start=False)
    shutil.copyfile(backup, restored.db)
    restored.start()
    office = Peer(restored.endpoint, "cli-backup", ["intake", "monitor"], ctx=zmq_ctx, curve=restored.curve("operator"))
    office.hello()
    for c in ids:
        assert office.request("QUERY", {"what": "case", "case_id": c}).command == "RESULT", c
    assert office.request("QUERY", {"what": "case", "case_id": later})["code"] == "unknown_case"
    office.close()
    restored.stop()
    v = run_cli("verify-log", "--db", str(restored.db))
    assert v.returncode == 0, v.stdout + v.stderr
