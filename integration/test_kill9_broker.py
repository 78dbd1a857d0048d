"""kill -9 of the broker in the middle of a burst of SUBMITs loses nothing and applies nothing
twice: a peer that resends every unanswered request with the same id after the restart gets
exactly one case per request, the same case id whenever it asks again, and every case reaches
its agency."""
from __future__ import annotations

import pytest

from conftest import Peer, Reply, case_body, pump_peers, verify_log, wait_until

N = 300
WINDOW = 40          # requests in flight at once (pipelined, not one by one)
CATEGORY = "heating_not_warm"   # lead 热力 reli, no assists: one DISPATCH per case
AGENCY = "reli"


def request_id(i: int) -> str:
    return f"s-{i}"


def submit_body(i: int) -> dict:
    # Distinct external_ref and address: no two requests are the same report, none is merged.
    return {"id": request_id(i),
            "case": case_body(f"暖气不热 室温只有16度 ({i})", f"HL-K9-{i:04d}", category=CATEGORY,
                              address=f"政通路{i}号院{i % 7 + 1}号楼")}


class Intake:
    """Tracks the first reply to each request id and insists later ones agree."""

    def __init__(self, peer: Peer):
        self.peer = peer
        self.case_of: dict[str, str] = {}       # request id -> case_id (first ACCEPTED seen)
        self.first_raw: dict[str, bytes] = {}
        self.not_registered: set[str] = set()   # answered by a broker that had not had our HELLO

    def drain(self) -> None:
        replies = self.peer.replies
        for rid in list(replies):
            q = replies.pop(rid)
            for r in q:
                self._take(rid, r)

    def _take(self, rid: str, r: Reply) -> None:
        if r.command == "WELCOME":
            return
        if r.command == "ERROR" and r["code"] == "not_registered":
            self.not_registered.add(rid)
            return
        assert r.command == "ACCEPTED", f"{rid}: {r!r}"
        assert r["re"] == rid
        if rid in self.case_of:
            assert r["case_id"] == self.case_of[rid], f"{rid} first got {self.case_of[rid]}, now {r!r}"
        else:
            self.case_of[rid] = r["case_id"]
            self.first_raw[rid] = r.raw
            assert r["state"] == "dispatched", r


@pytest.mark.slow
def test_kill9_broker_mid_burst(make_broker, peers):
    broker = make_broker()
    agency = peers(broker.endpoint, "py-reli-k9", ["agency"], agency=AGENCY, auto_received=True)
    agency.hello()
    intake_peer = peers(broker.endpoint, "py-intake-k9", ["intake"])
    intake_peer.hello()
    intake = Intake(intake_peer)
    both = [intake_peer, agency]

    # Pipeline SUBMITs (WINDOW in flight) until about half are ACCEPTED, then kill -9.
    sent = 0
    while len(intake.case_of) < N // 2:
        while sent < N and sent - len(intake.case_of) < WINDOW:
            intake_peer.send("SUBMIT", submit_body(sent))
            sent += 1
        pump_peers(both, 0.05)
        intake.drain()
        assert broker.alive, broker.stderr_tail()
    broker.kill9()
    accepted_before_kill = len(intake.case_of)
    assert accepted_before_kill < N, "every request was answered before the kill; nothing was tested"
    in_flight_at_kill = sent - accepted_before_kill

    # Same db, same port.
    broker.start()
    # Requests the dead broker committed but whose ACCEPTED never reached us (the hard case).
    (committed_at_kill,), = broker.query("SELECT count(*) FROM cases")
    assert committed_at_kill >= accepted_before_kill, "ACCEPTED was sent for a case that is not durable"
    intake_peer.hello()
    intake.drain()
    # Resend every request that has no answer (never sent ones included), with the SAME id.
    unanswered = [i for i in range(N) if request_id(i) not in intake.case_of]
    for i in unanswered:
        intake_peer.send("SUBMIT", submit_body(i))
    agency.hello()

    def all_accepted() -> bool:
        intake.drain()
        return len(intake.case_of) == N
    wait_until(all_accepted, 30, "an ACCEPTED for every request id", pump=both)

    # Each ACCEPTED case id exists exactly once, and belongs to that request's report.
    rows = broker.query("SELECT case_id, source, external_ref FROM cases")
    by_case = {}
    for case_id, source, ref in rows:
        assert case_id not in by_case, f"case {case_id} twice in the db"
        by_case[case_id] = (source, ref)
    for i in range(N):
        cid = intake.case_of[request_id(i)]
        assert cid in by_case, f"{request_id(i)} was ACCEPTED as {cid}, which is not in the db"
        assert by_case[cid] == ("hotline_12345", f"HL-K9-{i:04d}"), (request_id(i), cid, by_case[cid])
    # No request applied twice: as many cases as distinct reports.
    (n_cases, n_refs), = broker.query("SELECT count(*), count(DISTINCT external_ref) FROM cases")
    assert n_cases == n_refs == N, (n_cases, n_refs)
    assert len(set(intake.case_of.values())) == N
    dup_dispatches = broker.query("SELECT case_id, count(*) FROM dispatches GROUP BY case_id HAVING count(*) != 1")
    assert dup_dispatches == [], f"cases without exactly one dispatch: {dup_dispatches[:10]}"

    # Asking again with every id gives the first answer back (same case id; same bytes for
    # the ones answered after the restart or before it alike).
    before = dict(intake.case_of)
    for i in range(N):
        intake_peer.send("SUBMIT", submit_body(i))
    seen_again: dict[str, Reply] = {}

    def all_answered_again() -> bool:
        for rid in list(intake_peer.replies):
            for r in intake_peer.replies.pop(rid):
                seen_again.setdefault(rid, r)
        return len(seen_again) == N
    wait_until(all_answered_again, 20, "the replies to all 300 ids resent", pump=both)
    for rid, r in seen_again.items():
        assert r.command == "ACCEPTED", r
        assert r["case_id"] == before[rid], (rid, before[rid], r)
        assert r.raw == intake.first_raw[rid], (rid, intake.first_raw[rid], r.raw)
    (n_cases_after,), = broker.query("SELECT count(*) FROM cases")
    assert n_cases_after == N

    # Every case reaches its agency (pushes are durable; the restart loses none).
    wanted = set(intake.case_of.values())

    def dispatched_all() -> bool:
        got = {m["case"]["case_id"] for m in agency.all_pushes if m.command == "DISPATCH"}
        return wanted <= got
    wait_until(dispatched_all, 30, "a DISPATCH for every case at the agency", pump=both)
    dispatches = [m for m in agency.all_pushes if m.command == "DISPATCH"]
    assert len({m["dispatch_id"] for m in dispatches}) == N, "a dispatch came with two delivery ids"
    assert all(m["role"] == "lead" and m["case"]["category"] == CATEGORY for m in dispatches)

    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, f"verify-log failed after kill -9:\n{v.stdout}\n{v.stderr}"
    print(f"accepted before kill: {accepted_before_kill}, in flight at kill: {in_flight_at_kill}, "
          f"committed but unanswered at kill: {committed_at_kill - accepted_before_kill}, "
          f"not_registered answers after restart: {len(intake.not_registered)}")
