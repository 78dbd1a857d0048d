"""An agency instance that dies (kill -9) before saying RECEIVED loses nothing: once the broker
notices it is gone (3 missed heartbeats), its in-flight dispatches go to a live sibling
instance of the same agency."""
from __future__ import annotations

import sys
import time

import pytest

from conftest import INTEGRATION_DIR, Process, case_body, wait_until

N = 5


@pytest.mark.slow
def test_kill9_agency_instance_dispatches_go_to_sibling(make_broker, peers, processes):
    broker = make_broker(heartbeat="1s", resend_after="1s")

    a = Process([sys.executable, "-u", str(INTEGRATION_DIR / "hold_agency.py"), broker.endpoint, "chengguan-a", "chengguan"],
                cwd=broker.workdir, name="hold-agency-a")
    processes.append(a)
    a.wait_line(r"^WELCOME ", 10)

    intake = peers(broker.endpoint, "py-intake", ["intake"])
    intake.hello()
    case_ids = []
    for i in range(N):
        r = intake.request("SUBMIT", {"case": case_body(f"流动摊贩占道经营 {i}", f"HL-KA-{i}",
                                                         category="street_vending", address=f"德化街{i + 10}号")})
        assert r.command == "ACCEPTED" and r["state"] == "dispatched", r
        case_ids.append(r["case_id"])

    def a_dispatches() -> dict[str, str]:
        got = {}
        for line in a.lines():
            if line.startswith("DISPATCH "):
                _, dispatch_id, _delivery, case_id = line.split()
                got[dispatch_id] = case_id
        return got
    held = wait_until(lambda: len(a_dispatches()) >= N and a_dispatches(), 10, f"A to print {N} dispatch ids",
                      pump=[intake])
    assert sorted(held.values()) == sorted(case_ids), held
    assert not [line for line in a.lines() if line.startswith("ERROR")], a.lines()

    # The sibling is connected (and heartbeating) before A dies.
    b = peers(broker.endpoint, "chengguan-b", ["agency"], agency="chengguan")
    b.hello()
    b.pump(0.2)
    assert not [m for m in b.all_pushes if m.command == "DISPATCH"], \
        "B got a dispatch A holds while A is alive (it was in A's flight)"

    a.kill9()
    killed_at = time.monotonic()

    def b_has_all() -> bool:
        return set(held) <= {m["dispatch_id"] for m in b.all_pushes if m.command == "DISPATCH"}
    wait_until(b_has_all, 10, f"B to get all {N} dispatches A held", pump=[b, intake])
    took = time.monotonic() - killed_at
    dispatches = [m for m in b.all_pushes if m.command == "DISPATCH"]
    for m in dispatches:
        assert m["case"]["case_id"] == held[m["dispatch_id"]]
        assert m["role"] == "lead"
    b.received(m["delivery"] for m in dispatches)

    # B can work them: the dispatches are B's agency's to sign.
    ok = b.request("ACK", {"dispatch_id": dispatches[0]["dispatch_id"], "handler": "B 值班员"})
    assert ok.command == "OK" and ok["state"] == "handling", ok
    # RECEIVED cleared chengguan's stored pushes.
    wait_until(lambda: broker.query("SELECT count(*) FROM outbox WHERE target = 'agency:chengguan'")[0][0] == 0,
               5, "chengguan's outbox rows to be deleted", pump=[b, intake])
    print(f"B had all {N} dispatches {took:.1f}s after kill -9 of A")


@pytest.mark.slow
def test_silent_agency_instance_dropped_after_3_heartbeats(make_broker, peers):
    """No kill, no closed TCP connection: instance A just goes silent. After 3 heartbeat
    intervals (1 s each here) the broker drops it and hands its unreceived dispatch to B."""
    broker = make_broker(heartbeat="1s", resend_after="1s")
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    intake.hello()
    a = peers(broker.endpoint, "chengguan-silent-a", ["agency"], agency="chengguan")
    a.hello()
    acc = intake.request("SUBMIT", {"case": case_body("摆摊设点", "HL-SIL-1", address="人民路9号")})
    assert acc.command == "ACCEPTED"
    d = a.expect_push("DISPATCH", 5)
    b = peers(broker.endpoint, "chengguan-b", ["agency"], agency="chengguan")
    b.hello()
    silent_since = time.monotonic()
    # Only B and the intake peer are pumped (and heartbeat) from here on; A says nothing.
    got = wait_until(lambda: [m for m in b.all_pushes if m["dispatch_id"] == d["dispatch_id"]], 10,
                     "B to get the dispatch silent A held", pump=[b, intake])
    took = time.monotonic() - silent_since
    assert got[0]["delivery"] == d["delivery"]
    assert took >= 2.0, f"A was dropped after only {took:.1f}s of silence (3 heartbeats of 1s expected)"
    # A is no longer a session.
    a.heartbeat()
    wait_until(lambda: any(e["code"] == "not_registered" for e in a.errors_without_re), 5,
               "ERROR not_registered for the dropped instance", pump=[a])
