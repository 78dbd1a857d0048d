"""The whole system as shipped: the broker, the five simulated agencies (`muster adapter`) and
the `muster submit` / `muster case` CLI, all as separate processes. A python peer does the
grid's check (核查) and the hotline's follow-up rating (回访)."""
from __future__ import annotations

import json
import time

import pytest

from conftest import GRID, MUSTER_BIN, Process, adapter_config, verify_log

SIMULATED_AGENCIES = ["chengguan", "gongan", "gongshui", "reli", "zhujian"]


def case_json(broker, case_id: str) -> dict:
    r = broker.cli("case", case_id, "--json", timeout=20)
    assert r.returncode == 0, f"muster case failed: {r.stderr}"
    return json.loads(r.stdout)


@pytest.mark.slow
def test_street_vending_case_closed_end_to_end(make_broker, processes, peers):
    # As shipped and as `make run` starts it: CURVE on, every process with its own key.
    broker = make_broker(secure=True)
    for name in SIMULATED_AGENCIES:
        cfg = adapter_config(broker.workdir, name, return_probability=0)
        p = Process([str(MUSTER_BIN), "adapter", "--config", str(cfg), "--endpoint", broker.endpoint],
                    cwd=broker.workdir, name=f"adapter-{name}")
        processes.append(p)
    for p in processes:
        p.wait_line(r"connecting to", 15)

    r = broker.cli("submit", "--title", "解放路人行道流动摊贩占道经营", "--grid", GRID,
                   "--address", "解放路128号门前", "--category", "street_vending",
                   "--external-ref", "HL-E2E-0001", "--json", timeout=20)
    assert r.returncode == 0, f"muster submit failed: {r.stdout}\n{r.stderr}"
    accepted = json.loads(r.stdout)
    case_id = accepted["case_id"]
    assert accepted["state"] == "dispatched"

    # The simulated 城管 signs after ~200 ms and finishes after ~1 s.
    deadline = time.monotonic() + 20
    while True:
        result = case_json(broker, case_id)
        if result["case"]["state"] == "finished":
            break
        assert result["case"]["state"] in {"dispatched", "handling"}, result["case"]
        assert time.monotonic() < deadline, f"case not finished within 20 s: {result['case']}"
        for p in processes:
            assert p.alive, f"{p.name} died:\n{p.stderr_tail()}"
        time.sleep(0.2)  # poll interval, not a synchronisation

    lead = [d for d in result["dispatches"] if d["role"] == "lead"]
    assert len(lead) == 1 and lead[0]["agency"] == "chengguan" and lead[0]["state"] == "finished"
    assert lead[0]["handler"]  # the simulated duty officer signed

    checker = peers(broker.endpoint, "grid-app-1", ["grid"], curve=broker.curve("grid-app"))
    checker.hello()
    ok = checker.request("VERIFY", {"case_id": case_id, "passed": True, "note": "网格员现场核查：已无摊贩"})
    assert ok.command == "OK" and ok["state"] == "verified", ok
    hotline = peers(broker.endpoint, "hotline-12345", ["intake"], curve=broker.curve("hotline-12345"))
    hotline.hello()
    ok = hotline.request("EVALUATE", {"case_id": case_id, "satisfaction": "satisfied", "note": "回访满意"})
    assert ok.command == "OK" and ok["state"] == "closed", ok

    final = case_json(broker, case_id)
    assert final["case"]["state"] == "closed"
    types = [e["type"] for e in final["timeline"]]
    for t in ["case.accepted", "case.dispatched", "dispatch.acked", "case.resolved", "case.verified",
              "case.evaluated", "case.closed"]:
        assert t in types, (t, types)

    for p in processes:
        p.stop()
    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, f"verify-log failed:\n{v.stdout}\n{v.stderr}"
