"""Open311 GeoReport v2 on the 12345 adapter (`settings.open311`, Plugins/Hotline/README.md), black-box:
the real `muster adapter` serves /open311/v2/ against the real broker; this test is an Open311 client
(and, with a Peer, the department). GET services in JSON and XML (the spec's element names), a
form-encoded POST becomes a case, GET requests/{id} shows the broker's deadline as expected_datetime,
the department's ACK / PROGRESS / RESOLVE appear in servicerequestupdates in order and the request is
closed once finished, a bad service_code is the spec's error document, and an Idempotency-Key repeat
is the same case."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import Peer, wait_until, free_port
from test_hotline_intake import API_KEY, HTTP, hotline_adapter, start_adapter

BASE = "/open311/v2"


def open311_adapter(broker, listen: str) -> Path:
    path = hotline_adapter(broker, listen)
    text = path.read_text(encoding="utf-8").replace(
        "curve:", "  open311: {config: ../muster.yaml, source: citizen_app, jurisdiction_id: zhengzhou}\ncurve:", 1)
    path.write_text(text, encoding="utf-8")
    return path


def http(listen: str, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> tuple[int, str, bytes]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    h = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"} if form is not None else {}
    h.update(headers or {})
    req = urllib.request.Request(f"http://{listen}{BASE}{path}", data=data, headers=h, method=method)
    try:
        with HTTP.open(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def get_json(listen: str, path: str):
    status, ctype, body = http(listen, "GET", path)
    assert ctype.startswith("application/json"), (status, ctype, body)
    return status, json.loads(body)


def report(**over) -> dict:
    f = {"api_key": API_KEY, "jurisdiction_id": "zhengzhou", "service_code": "street_vending", "lat": "34.7536", "long": "113.6653",
         "address_string": "二七区解放路100号", "description": "解放路人行道上有流动摊贩占道经营，行人只能走机动车道",
         "first_name": "小明", "last_name": "王", "phone": "13800001111", "media_url": "https://files.example/app/1.jpg"}
    f.update(over)
    return {k: v for k, v in f.items() if v is not None}


def test_open311_services_requests_and_updates(make_broker, processes, zmq_ctx):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, open311_adapter(broker, listen), 1, listen))

    # GET services, JSON and the spec's XML
    status, services = get_json(listen, "/services.json")
    assert status == 200 and services, services
    vending = next(s for s in services if s["service_code"] == "street_vending")
    assert vending["service_name"] == "占道经营" and vending["type"] == "realtime" and vending["metadata"] is False and vending["group"] == "城管"
    status, ctype, body = http(listen, "GET", "/services.xml")
    assert status == 200 and ctype.startswith("text/xml"), ctype
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(body)
    assert root.tag == "services" and {c.tag for c in root} == {"service"}
    first = root.find("service")
    assert [e.tag for e in first] == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert len(root) == len(services)
    assert http(listen, "GET", "/services/street_vending.xml")[0] == 200
    assert http(listen, "GET", "/services/moon.json")[0] == 404

    # a bad service_code: the spec's error document, and nothing reached the broker
    before = broker.query("SELECT count(*) FROM cases")[0][0]
    status, _, body = http(listen, "POST", "/requests.json", report(service_code="moon"))
    errors = json.loads(body)
    assert status == 404 and errors[0]["code"] == 404 and "moon" in errors[0]["description"], errors
    status, _, body = http(listen, "POST", "/requests.xml", report(service_code="moon"))
    root = ET.fromstring(body)
    assert status == 404 and root.tag == "errors" and [e.tag for e in root.find("error")] == ["code", "description"]
    assert http(listen, "POST", "/requests.json", report(api_key="wrong"))[0] == 403
    assert http(listen, "POST", "/requests.json", report(lat=None, long=None, address_string=None))[0] == 400
    assert broker.query("SELECT count(*) FROM cases")[0][0] == before

    # POST requests: the case id, and the same Idempotency-Key again is the same case
    status, _, body = http(listen, "POST", "/requests.json", report(), {"Idempotency-Key": "app-report-1"})
    answer = json.loads(body)
    assert status == 200 and answer[0]["service_request_id"].startswith("C"), answer
    case_id = answer[0]["service_request_id"]
    again = json.loads(http(listen, "POST", "/requests.json", report(), {"Idempotency-Key": "app-report-1"})[2])
    assert again[0]["service_request_id"] == case_id
    row = broker.query("SELECT source, category, external_ref FROM cases WHERE case_id = ?", (case_id,))[0]
    assert row[0] == "citizen_app" and row[1] == "street_vending" and row[2].startswith("o311-")

    # GET requests/{id}: expected_datetime is the broker's deadline
    status, reqs = get_json(listen, f"/requests/{case_id}.json")
    resolve_by = broker.query("SELECT resolve_by FROM dispatches WHERE case_id = ? AND role = 'lead'", (case_id,))
    assert status == 200 and reqs[0]["status"] == "open" and reqs[0]["service_code"] == "street_vending", reqs
    assert reqs[0]["expected_datetime"], reqs
    assert reqs[0]["agency_responsible"] == "城管"
    status, ctype, body = http(listen, "GET", f"/requests/{case_id}.xml")
    req = ET.fromstring(body).find("request")
    assert req.findtext("expected_datetime") == reqs[0]["expected_datetime"] and req.findtext("service_request_id") == case_id
    assert http(listen, "GET", "/requests/C9999999999.json")[0] == 404
    assert resolve_by, "the lead dispatch has a deadline"

    # the department signs for it, reports progress and finishes it
    cg = Peer(broker.endpoint, "chengguan-sim-1", ["agency"], agency="chengguan", ctx=zmq_ctx,
              curve=broker.curve("chengguan-sim-1"), auto_received=True)
    cg.hello()
    pushed = cg.expect_push("DISPATCH", 10, where=lambda m: m["case"]["case_id"] == case_id)
    d = pushed["dispatch_id"]
    assert pushed["due"]["resolve_by"] == reqs[0]["expected_datetime"], "expected_datetime is the dispatch's resolve_by"
    assert cg.request("ACK", {"dispatch_id": d, "handler": "解放路中队", "note": "已签收"}).command == "OK"
    assert cg.request("PROGRESS", {"dispatch_id": d, "note": "已到场劝离", "attachments": [{"url": "https://files.example/cg/2.jpg"}]}).command == "OK"
    assert cg.request("RESOLVE", {"dispatch_id": d, "result": "摊贩已劝离"}).command == "OK"
    cg.close()

    # start_date alone: the 24 hours after it … so ask for the range around now
    now = json.loads(http(listen, "GET", f"/requests/{case_id}.json")[2])[0]["requested_datetime"]
    q = "/servicerequestupdates.json?" + urllib.parse.urlencode({"start_date": now[:19] + now[23:], "end_date": "2099-01-01T00:00:00Z"})
    assert http(listen, "GET", q)[0] == 400, "more than 90 days"
    span = urllib.parse.urlencode({"start_date": now})
    got = wait_until(lambda: (lambda u: u if any("已办结" in x["description"] for x in u) else None)(
        [x for x in get_json(listen, "/servicerequestupdates.json?" + span)[1] if x["service_request_id"] == case_id]), 15, "the updates")
    texts = [x["description"] for x in got]
    assert [x["update_id"] for x in got] == sorted((x["update_id"] for x in got), key=int)
    signed = next(i for i, t in enumerate(texts) if "签收" in t)
    progress = next(i for i, t in enumerate(texts) if "已到场劝离" in t)
    done = next(i for i, t in enumerate(texts) if "已办结" in t)
    assert signed < progress < done, texts
    assert got[progress]["media_url"] == "https://files.example/cg/2.jpg" and got[progress]["status"] == "open"
    assert got[done]["status"] == "closed"
    root = ET.fromstring(http(listen, "GET", "/servicerequestupdates.xml?" + span)[2])
    assert root.tag == "service_request_updates"
    assert [e.tag for e in root.find("request_update")] == ["update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"]

    # finished: closed, and GET requests lists it
    status, reqs = get_json(listen, f"/requests/{case_id}.json")
    assert reqs[0]["status"] == "closed" and "摊贩已劝离" in reqs[0]["status_notes"], reqs
    status, listed = get_json(listen, "/requests.json?status=closed&service_code=street_vending")
    assert status == 200 and case_id in [r["service_request_id"] for r in listed]
    assert case_id not in [r["service_request_id"] for r in get_json(listen, "/requests.json?status=open")[1]]
    assert http(listen, "GET", "/requests.json?jurisdiction_id=elsewhere")[0] == 404
    assert http(listen, "GET", "/requests.json?colour=red")[0] == 400
