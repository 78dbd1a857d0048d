"""The shipped Python examples work against the broker as shipped (CURVE on):

- Plugins/examples/python/muster_adapter.py, the department adapter to copy, takes a case to 办结
  with its own ACK and RESOLVE; killed (kill -9) before it answered RECEIVED, it gets the same
  delivery again when it comes back; killed after RECEIVED, it finishes from its stored work
  order.
- docs/PROTOCOL.md's Appendix A, run as printed, joins with its key files and signs for a
  dispatch.

Each runs as a child process with a key made by `muster keys gen` and admitted in peers.yaml, as a
department's would be."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from conftest import GRID, REPO_DIR, Broker, Process, run_cli, wait_until

EXAMPLE = REPO_DIR / "Plugins" / "examples" / "python" / "muster_adapter.py"
PROTOCOL_MD = REPO_DIR / "docs" / "PROTOCOL.md"
ADAPTER = "reli-py-1"           # 热力: leads heating_not_warm, with no assists


def admit(broker: Broker, name: str, agency: str) -> None:
    """What a department and the centre's administrator do: `muster keys gen NAME` on the
    department's side, and an entry for NAME.pub in peers.yaml (before the broker starts)."""
    r = run_cli("keys", "gen", name, "--dir", str(broker.keys_dir))
    assert r.returncode == 0, f"muster keys gen failed:\n{r.stdout}\n{r.stderr}"
    add_peers_entry(broker, f"  - name: {name}\n    public_key_file: ../data/keys/{name}.pub\n"
                            f"    adapters: [{name}]\n    roles: [agency]\n    agencies: [{agency}]\n")


def add_peers_entry(broker: Broker, entry: str) -> None:
    peers_yaml = broker.config.parent / "peers.yaml"
    text = peers_yaml.read_text(encoding="utf-8")
    peers_yaml.write_text(text + ("" if text.endswith("\n") else "\n") + entry, encoding="utf-8")


def start_example(broker: Broker, processes: list, name: str, inbox: Path, resolve_after: float = 0.2) -> Process:
    p = Process([sys.executable, "-u", str(EXAMPLE), "--endpoint", broker.endpoint, "--adapter", ADAPTER,
                 "--agency", "reli", "--server-key", str(broker.keys_dir / "broker.pub"),
                 "--key", str(broker.keys_dir / f"{ADAPTER}.key"), "--inbox", str(inbox),
                 "--handler", "热力值班员", "--resolve-after", str(resolve_after)],
                cwd=broker.workdir, name=name)
    processes.append(p)
    p.wait_line(r"WELCOME session=", 15)
    return p


def submit_heating_case(broker: Broker, ref: str) -> str:
    r = broker.cli("submit", "--title", "暖气不热，室温只有14度", "--category", "heating_not_warm", "--grid", GRID,
                   "--address", f"民主路12号院 {ref}", "--external-ref", ref, "--json", timeout=20)
    assert r.returncode == 0, f"muster submit failed:\n{r.stdout}\n{r.stderr}"
    accepted = json.loads(r.stdout)
    assert accepted["state"] == "dispatched", accepted
    return accepted["case_id"]


def case_json(broker: Broker, case_id: str) -> dict:
    r = broker.cli("case", case_id, "--json", timeout=20)
    assert r.returncode == 0, f"muster case failed:\n{r.stdout}\n{r.stderr}"
    return json.loads(r.stdout)


def assert_finished_by_example(broker: Broker, case_id: str, dispatch_id: str) -> None:
    """The case is 办结 and its timeline has the example's ACK and RESOLVE of this dispatch."""
    result = case_json(broker, case_id)
    assert result["case"]["state"] == "finished", result["case"]
    (lead,) = [d for d in result["dispatches"] if d["role"] == "lead"]
    assert (lead["dispatch_id"], lead["agency"], lead["state"], lead["handler"]) == \
        (dispatch_id, "reli", "finished", "热力值班员"), lead
    acts = [(e["type"], e["actor"]) for e in result["timeline"] if e["data"].get("dispatch_id") == dispatch_id]
    assert ("dispatch.acked", ADAPTER) in acts and ("case.resolved", ADAPTER) in acts, result["timeline"]
    # Every push was RECEIVED: nothing stays in the outbox.
    assert broker.query("SELECT count(*) FROM outbox WHERE dispatch_id = ?", (dispatch_id,))[0][0] == 0


def work_order(inbox: Path, dispatch_id: str) -> dict:
    return json.loads((inbox / f"{dispatch_id}.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_python_example_takes_a_case_to_finished(make_broker, processes):
    broker = make_broker(start=False, secure=True)
    admit(broker, ADAPTER, "reli")
    broker.start()
    inbox = broker.workdir / "orders"
    example = start_example(broker, processes, "example", inbox)

    case_id = submit_heating_case(broker, "HL-PYEX-1")
    m = example.wait_line(rf"DISPATCH (D\d+) delivery=\S+ case={case_id} role=lead stored, RECEIVED", 15)
    dispatch_id = m.group(1)
    example.wait_line(rf"ACK {dispatch_id} OK state=handling", 15)
    example.wait_line(rf"RESOLVE {dispatch_id} OK state=finished", 15)

    assert_finished_by_example(broker, case_id, dispatch_id)
    order = work_order(inbox, dispatch_id)
    assert order["status"] == "resolved" and order["dispatch"]["case"]["case_id"] == case_id, order

    assert example.stop() == 0                  # SIGTERM: BYE, then exit 0
    assert "stopped" in example.lines()[-1]
    assert broker.stop() == 0


@pytest.mark.slow
def test_python_example_killed_before_received_gets_the_dispatch_again(make_broker, processes):
    broker = make_broker(start=False, secure=True, heartbeat="1s", resend_after="1s")
    admit(broker, ADAPTER, "reli")
    broker.start()
    # The work orders cannot be stored (their folder's parent is a file), so the example must not
    # say RECEIVED; the broker keeps the dispatch and resends it.
    blocker = broker.workdir / "orders-blocked"
    blocker.write_text("not a folder\n", encoding="utf-8")
    inbox = blocker / "orders"
    example = start_example(broker, processes, "example-1", inbox)

    case_id = submit_heating_case(broker, "HL-PYEX-2")
    refused = re.compile(rf"DISPATCH (D\d+) delivery=(\S+) case={case_id} NOT stored")
    m = example.wait_line(refused.pattern, 15)
    dispatch_id, delivery = m.group(1), m.group(2)
    # Resent after resend_after (1 s), still unreceived, and still in the broker's outbox.
    wait_until(lambda: sum(1 for line in example.lines() if refused.search(line)) >= 2, 10,
               "the broker to resend the unreceived DISPATCH")
    assert broker.query("SELECT count(*) FROM outbox WHERE dispatch_id = ?", (dispatch_id,)) == [(1,)]
    assert not [line for line in example.lines() if "stored, RECEIVED" in line or " ACK " in line], example.lines()

    example.kill9()
    blocker.unlink()                            # the department fixes its store
    again = start_example(broker, processes, "example-2", inbox)
    again.wait_line(rf"DISPATCH {dispatch_id} delivery={delivery} case={case_id} role=lead stored, RECEIVED", 15)
    again.wait_line(rf"RESOLVE {dispatch_id} OK state=finished", 15)

    assert_finished_by_example(broker, case_id, dispatch_id)
    assert work_order(inbox, dispatch_id)["status"] == "resolved"
    assert broker.stop() == 0


@pytest.mark.slow
def test_python_example_killed_after_received_finishes_from_its_work_order(make_broker, processes):
    broker = make_broker(start=False, secure=True, heartbeat="1s", resend_after="1s")
    admit(broker, ADAPTER, "reli")
    broker.start()
    inbox = broker.workdir / "orders"
    example = start_example(broker, processes, "example-1", inbox, resolve_after=3600)

    case_id = submit_heating_case(broker, "HL-PYEX-3")
    m = example.wait_line(rf"DISPATCH (D\d+) delivery=\S+ case={case_id} role=lead stored, RECEIVED", 15)
    dispatch_id = m.group(1)
    example.wait_line(rf"ACK {dispatch_id} OK state=handling", 15)
    wait_until(lambda: work_order(inbox, dispatch_id)["status"] == "acked", 5, "the work order to be marked acked")
    # RECEIVED took the dispatch out of the broker's outbox: from here on it is the adapter's.
    wait_until(lambda: broker.query("SELECT count(*) FROM outbox WHERE dispatch_id = ?", (dispatch_id,))[0][0] == 0,
               5, "the outbox row to be deleted")

    example.kill9()                             # signed for, not finished
    again = start_example(broker, processes, "example-2", inbox, resolve_after=0)
    again.wait_line(rf"resuming {dispatch_id} \(acked\) from the inbox", 5)
    again.wait_line(rf"RESOLVE {dispatch_id} OK state=finished", 15)
    assert not [line for line in again.lines() if line.split()[1:2] == ["DISPATCH"]], again.lines()

    assert_finished_by_example(broker, case_id, dispatch_id)
    assert broker.stop() == 0


# ------------------------------------------------------------------------------------------


def appendix_a() -> tuple[str, str]:
    """The peers.yaml entry and the Python program of PROTOCOL.md's Appendix A, as printed."""
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    appendix = text[text.index("## Appendix A"):]
    yaml_block = re.search(r"```yaml\n(.*?)```", appendix, re.S)
    python_block = re.search(r"```python\n(.*?)```", appendix, re.S)
    assert yaml_block and python_block, "Appendix A has no yaml or python block"
    return yaml_block.group(1), python_block.group(1)


@pytest.mark.slow
def test_protocol_appendix_a_peer_joins_with_curve(make_broker, processes, monkeypatch):
    peers_entry, program = appendix_a()
    broker = make_broker(start=False, secure=True)
    r = run_cli("keys", "gen", "chengguan-py-1", "--dir", str(broker.keys_dir))
    assert r.returncode == 0, r.stderr
    add_peers_entry(broker, peers_entry)
    broker.start()
    script = broker.workdir / "appendix_a.py"
    script.write_text(program, encoding="utf-8")
    monkeypatch.setenv("MUSTER_ENDPOINT", broker.endpoint)
    peer = Process([sys.executable, "-u", str(script)], cwd=broker.workdir, name="appendix-a")
    processes.append(peer)
    peer.wait_line(r"^WELCOME S", 15)

    r = broker.cli("submit", "--title", "人行道流动摊贩占道经营", "--category", "street_vending", "--grid", GRID,
                   "--address", "解放路128号门前", "--external-ref", "HL-APPA-1", "--json", timeout=20)
    assert r.returncode == 0, f"muster submit failed:\n{r.stdout}\n{r.stderr}"
    case_id = json.loads(r.stdout)["case_id"]
    peer.wait_line(r"^OK chengguan-py-1-\d+ handling$", 15)

    result = case_json(broker, case_id)
    assert result["case"]["state"] == "handling", result["case"]
    acked = [e for e in result["timeline"] if e["type"] == "dispatch.acked"]
    assert [e["actor"] for e in acked] == ["chengguan-py-1"], acked
    assert not [line for line in peer.lines() if line.startswith("ERROR")], peer.lines()
    assert broker.stop() == 0
