"""信访 through the petition office's adapter (`plugin: petition`, issue 14), black-box: the real
`muster adapter` runs the plugin against the real broker; this test is the petition office's system,
POSTing over signed HTTP, and 公安's desk, a MUSTER/1 peer. A petition is registered, told (受理告知书),
accepted, answered (答复意见书) and reviewed (复查); its documents are kept with their text and
retrievable; a repeat is merged and told where the first stands; the petitioner's name, phone and ID
number are nowhere in the unit about which the petition complains, in the events or the broker's
log; and a kill -9 of the adapter between registration and 告知 (and of the broker) loses and
doubles nothing. Plugins/Petition/README.md is the contract."""
from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

from conftest import Process, free_port, signed_call, start_intake, wait_until

SECRET = b"petition-office-shared-secret"
NAME, PHONE, ID_NUMBER = "王五", "13812345678", "11010519491231002X"


def form(no: str, **over) -> dict:
    f = {"petition_no": no, "received_at": "2026-12-02T09:30:00+08:00", "channel": "来访",
         "title": "反映解放路违章停车长期无人管理", "content": "解放路100号门前人行道长期被违章停车占用，多次反映未解决",
         "address": "二七区解放路100号", "grid": "zz/erqi/jiefanglu", "category": "illegal_parking", "about": ["chengguan"],
         "petitioner": {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER}}
    f.update(over)
    return f


def petition_adapter(broker, listen: str, wait: str = "5s") -> Path:
    path = broker.workdir / "config" / "adapters" / "petition-office.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "xfj.secret").write_bytes(SECRET + b"\n")
    path.write_text(f"""adapter: petition-office
name: 郑州市信访局
roles: [intake]
broker: {broker.endpoint}
plugin: petition
queue: ../../data/acts/petition-office.db
settings:
  listen: "{listen}"
  wait: {wait}
  clients:
    - {{name: xfj, secret_file: xfj.secret}}
  public_url: https://xf.example.gov.cn
curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/petition-office.key
""", encoding="utf-8")
    return path


def start_adapter(broker, config: Path, n: int, listen: str) -> Process:
    return start_intake(broker, config, f"petition-{n}", listen)


def call(listen: str, method: str, path: str, doc: dict | None = None, *, secret: bytes = SECRET) -> tuple[int, dict]:
    return signed_call(listen, method, path, doc, client="xfj", secret=secret)


def now_cst() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))


def identity_in(text: str) -> list[str]:
    return [x for x in (NAME, PHONE, ID_NUMBER) if x in text]


def test_a_petition_is_registered_told_answered_and_reviewed_and_its_documents_are_kept(make_broker, processes, peers):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, petition_adapter(broker, listen), 1, listen))
    gongan = peers(broker.endpoint, "gongan-sim-1", ["agency"], agency="gongan", curve=broker.curve("gongan-sim-1"))
    gongan.hello()
    chengguan = peers(broker.endpoint, "chengguan-sim-1", ["agency"], agency="chengguan", curve=broker.curve("chengguan-sim-1"))
    chengguan.hello()

    status, reg = call(listen, "POST", "/v1/petitions", form("XF-2026-0001"))
    assert status == 201, reg
    case_id = reg["case_id"]
    assert reg["petition"]["state"] == "forwarded" and reg["petition"]["about"] == ["chengguan"], reg
    dispatch = gongan.expect_push("DISPATCH")
    gongan.received([dispatch["delivery"]])
    assert identity_in(json.dumps(dispatch.body, ensure_ascii=False)) == [NAME, PHONE, ID_NUMBER], "公安's desk sees the petitioner"
    assert dispatch["case"]["xf"] == {"channel": "来访"}

    bad, refusal = call(listen, "POST", "/v1/petitions", form("XF-2026-0002", petitioner={"name": NAME, "id_number": "110105194912310021"}))
    assert (bad, refusal["field"]) == (422, "petitioner.id_number"), refusal
    assert call(listen, "POST", "/v1/petitions", form("XF-2026-0003", channel="托人"))[1]["field"] == "channel"
    assert call(listen, "POST", "/v1/petitions", form("XF-X"), secret=b"wrong")[0] == 401

    text = f"{NAME}：您于2026年12月2日来访反映的问题已登记，并转送郑州市公安局交通警察支队办理。"
    served = now_cst()
    status, early = call(listen, "POST", f"/v1/petitions/XF-2026-0001/documents",
                         {"kind": "受理告知书", "text": text, "served_at": "2026-12-01T10:00:00+08:00"})
    assert (status, early["field"]) == (422, "document.served_at"), "not served before it was registered"
    status, told = call(listen, "POST", f"/v1/petitions/XF-2026-0001/documents",
                        {"kind": "受理告知书", "number": "郑信转〔2026〕118号", "issuer": "郑州市信访局", "text": text, "served_at": served})
    assert status == 201, told
    assert [n["kind"] for n in told["petition"]["notices"]] == ["acceptance"]
    notice = told["petition"]["notices"][0]
    assert notice["url"] == told["url"] and notice["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert call(listen, "POST", f"/v1/petitions/XF-2026-0001/documents",
                {"kind": "受理告知书", "number": "郑信转〔2026〕118号", "issuer": "郑州市信访局", "text": text,
                 "served_at": served})[1]["document_id"] == told["document_id"], "the same document again is one"
    again, twice = call(listen, "POST", f"/v1/petitions/XF-2026-0001/documents", {"kind": "acceptance", "text": "第二份告知书"})
    assert again == 409 and twice["error"] == "invalid_transition", twice
    status, doc = call(listen, "GET", f"/v1/documents/{told['document_id']}")
    assert status == 200 and doc["text"] == text and doc["state"] == "served", doc

    d = dispatch["dispatch_id"]
    assert gongan.request("ACK", {"id": gongan.next_id(), "dispatch_id": d}).command == "OK"
    assert gongan.request("RESOLVE", {"id": gongan.next_id(), "dispatch_id": d, "result": "已清理违停车辆并设置隔离桩"}).command == "OK"
    status, early = call(listen, "POST", "/v1/petitions/XF-2026-0001/requests", {"kind": "复查"})
    assert status == 409 and early["state"] == "answered", early
    status, reply = call(listen, "POST", "/v1/petitions/XF-2026-0001/documents",
                         {"kind": "答复意见书", "number": "郑公交复〔2026〕7号", "issuer": "郑州市公安局交通警察支队",
                          "text": f"{NAME}：经查，……现答复如下。"})
    assert status == 201 and reply["petition"]["state"] == "replied" and reply["petition"]["window_closes"], reply
    status, review = call(listen, "POST", "/v1/petitions/XF-2026-0001/requests", {"kind": "复查", "reason": "对答复意见不服"})
    assert status == 201 and review["petition"]["state"] == "reviewing", review
    status, listed = call(listen, "GET", "/v1/petitions/XF-2026-0001/documents")
    served_docs = [x["kind_zh"] for x in listed["documents"] if x["state"] == "served"]
    assert served_docs == ["受理告知书", "答复意见书"] and "text" not in listed["documents"][0], listed
    refused_docs = [x for x in listed["documents"] if x["state"] == "refused"]
    assert len(refused_docs) == 2 and all(x["refusal"] for x in refused_docs), "kept, with why the bus refused them"

    shown = broker.cli("case", case_id)
    assert shown.returncode == 0, shown.stderr
    assert "信访      reviewing (复查中)   about chengguan" in shown.stdout, shown.stdout
    assert "受理告知书 郑信转〔2026〕118号" in shown.stdout and "告知 document served [petition.notified]" in shown.stdout, shown.stdout
    assert identity_in(shown.stdout) == [], "the operator's case view shows no petitioner either"

    # The same petitioner and facts again while the first is in process: merged, told where it stands.
    status, repeat = call(listen, "POST", "/v1/petitions", form("XF-2026-0009", channel="来信"))
    assert status == 201 and repeat["merged_into"] == case_id and repeat["standing"]["state"] == "reviewing", repeat
    status, current = call(listen, "GET", "/v1/petitions/XF-2026-0001")
    assert status == 201 and current["petition"]["state"] == "reviewing" and current["case_id"] == case_id

    # The unit complained about got nothing; no event, no log line names the petitioner.
    assert not any(p.command == "DISPATCH" for p in chengguan.all_pushes)
    events = broker.query("SELECT data FROM events")
    assert events and not any(identity_in(row[0] if isinstance(row[0], str) else bytes(row[0]).decode()) for row in events)
    logs = "".join(p.read_text(encoding="utf-8", errors="replace") for p in broker.workdir.glob("broker-*.stderr.log"))
    assert "petition" in logs.lower() or logs, "the broker logged"
    assert identity_in(logs) == []
    stats = broker.cli("stats", "--json")
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)["petitions"]
    assert figures["registered"] == 2 and figures["repeats"] == 1 and figures["review_requested"] == 1, figures


def test_a_kill9_between_registration_and_the_notice_loses_and_doubles_nothing(make_broker, processes, peers):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = petition_adapter(broker, listen, wait="300ms")
    first = start_adapter(broker, config, 1, listen)
    processes.append(first)
    broker.stop()

    status, queued = call(listen, "POST", "/v1/petitions", form("XF-2026-0100"))
    assert (status, queued["status"]) == (202, "queued"), queued
    first.kill9()                                   # registered (on the adapter's disk), not yet on the bus, not yet told
    broker.start()
    second = start_adapter(broker, config, 2, listen)
    processes.append(second)
    wait_until(lambda: len(broker.query("SELECT case_id FROM cases WHERE external_ref = 'XF-2026-0100'")) == 1, 30,
               "the queued registration became a case")
    # The case is in the broker's file a moment before its ACCEPTED is back in the adapter's queue.
    wait_until(lambda: call(listen, "GET", "/v1/petitions/XF-2026-0100")[0] == 201, 30, "the adapter has the broker's answer")
    status, reg = call(listen, "GET", "/v1/petitions/XF-2026-0100")
    assert status == 201 and reg["petition"]["state"] in ("forwarded", "registered"), reg
    case_id = reg["case_id"]
    clock = broker.query("SELECT count(*) FROM timers WHERE case_id = ? AND clock = 'notify'", (case_id,))[0][0]
    assert clock > 0, "its 告知 clock runs: the notice is still owed"

    # The notice is sent; the broker dies (kill -9) at once; both come back and the notice is there once.
    status, told = call(listen, "POST", "/v1/petitions/XF-2026-0100/documents",
                        {"kind": "受理告知书", "number": "郑信转〔2026〕200号", "text": "您的来访已登记并转送办理。"})
    assert status in (201, 202), told
    broker.kill9()
    second.kill9()
    broker.start()
    processes.append(start_adapter(broker, config, 3, listen))
    wait_until(lambda: call(listen, "GET", "/v1/petitions/XF-2026-0100")[1].get("petition", {}).get("notices"), 30, "the notice reached the bus")
    status, now = call(listen, "GET", "/v1/petitions/XF-2026-0100")
    assert [n["number"] for n in now["petition"]["notices"]] == ["郑信转〔2026〕200号"], now
    assert broker.query("SELECT count(*) FROM timers WHERE case_id = ? AND clock = 'notify'", (case_id,))[0][0] == 0
    assert len(broker.query("SELECT case_id FROM cases WHERE external_ref = 'XF-2026-0100'")) == 1
    status, again = call(listen, "POST", "/v1/petitions", form("XF-2026-0100"))
    assert status == 201 and again["case_id"] == case_id, "registered again: the same case"
    assert broker.query("SELECT count(*) FROM events WHERE case_id = ? AND type = 'petition.notified'", (case_id,))[0][0] == 1


def test_the_petition_table_prints_as_the_statute_reads():
    from conftest import run_cli
    r = run_cli("lifecycle", "--machine", "petition")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for rx in (r"replied\(已答复\)\s+request_review 申请复查\s+window_open\s+reviewing\(复查中\)\s+stop\(review_request\), start_clocks",
               r"replied\(已答复\)\s+window_closes 复查期满未申请\s+settled\(期满办结\)",
               r"forwarded\(已转送\)\s+accept 受理\s+accepted\(已受理\)\s+handle_from_acceptance",
               r"rechecking\(复核中\)\s+serve_recheck 送达复核意见书，终结\s+concluded\(终结\)\s+stop\(recheck\)"):
        assert re.search(rx, out), (rx, out)
    assert not re.search(r"(?m)^concluded\(", out), "nothing leaves 终结"
    dot = run_cli("lifecycle", "--machine", "petition", "--dot").stdout
    assert dot.startswith("digraph petition {") and "p_replied -> p_reviewing" in dot, dot
