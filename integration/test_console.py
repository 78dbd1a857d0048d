"""The seat console (座席端, `plugin: console`, issue 12 item 7), black-box: the real broker (CURVE on),
the real `muster adapter` running `plugin: console` for 热力 (key reli-sim-1), and a seat working it
in headless Chromium (Debian's chromium and chromium-driver, driven by selenium). A case submitted
to the bus appears in the seat's inbox live (server-sent events, no reload); the seat signs for it
(签收) and finishes it (办结) with the department's required fields — a missing one is refused on
the page and nothing reaches the broker — and the broker's record has dispatch.acked by the seat
and case.resolved with the result. A wrong password is refused; a kill -9 of the adapter after
签收 loses neither the item nor its state. The inbox's screenshot is written for the docs."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import struct
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import MUSTER_BIN, REPO_DIR, Peer, Process, case_body, chromium, free_port, http_healthy, wait_until

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SCREENSHOT = REPO_DIR / "docs" / "images" / "console-inbox.png"
# Requests to 127.0.0.1 never through a proxy from the environment (urllib, selenium's own client).
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

SEATS = {"wangwu": ("王五", "xinfang-2026!"), "zhaoliu": ("赵六", "zhaoliu-pass")}


def pbkdf2(password: str, salt: str, rounds: int = 210_000) -> str:
    """The hash config keeps (Plugins/Console/README.md): Django's pbkdf2_sha256 notation."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), rounds)
    return f"pbkdf2_sha256${rounds}${salt}${base64.b64encode(digest).decode()}"


def console_adapter(broker, listen: str) -> Path:
    path = broker.workdir / "config" / "adapters" / "reli-console.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    seats = "".join(f"    - {{login: {login}, name: {name}, password: \"{pbkdf2(pw, 'salt-' + login)}\"}}\n"
                    for login, (name, pw) in SEATS.items())
    path.write_text(f"""adapter: reli-sim-1
agency: reli
name: 热力公司 供热服务中心
roles: [agency]
broker: {broker.endpoint}
plugin: console
queue: ../../data/acts/reli-console.db
settings:
  listen: {listen}
  seats:
{seats}  finish_fields:
    - {{key: result, label: 处理结果, required: true, kind: textarea}}
    - {{key: temperature, label: 复测室温（℃）, required: false}}
    - {{key: photo, label: 处置后照片URL, required: true, kind: url}}
  session_hours: 12
  inbox: ../../data/console/reli-console.db
  category_names: {{heating_not_warm: 暖气不热, heating_leak: 暖气漏水}}
curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/reli-sim-1.key
""", encoding="utf-8")
    return path


def start_adapter(broker, config: Path, listen: str, n: int) -> Process:
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(config)], cwd=broker.workdir, name=f"reli-console-{n}")
    p.wait_line(r"connecting to", 10)
    wait_until(lambda: http_healthy(listen) or not p.alive, 15, "the console's GET /health")
    assert p.alive, f"the adapter exited: {p.stderr_tail()}"
    return p


@pytest.fixture
def browser():
    driver = chromium(1280, 800)
    yield driver
    driver.quit()


def submit(broker, zmq_ctx, ref: str, title: str, category: str = "heating_not_warm", address: str | None = None) -> str:
    office = Peer(broker.endpoint, f"cli-intake-{ref}", ["intake"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    r = office.request("SUBMIT", {"case": case_body(title, ref, category=category, address=address,
                                                    description="住户反映，请尽快上门处理")})
    assert r.command == "ACCEPTED", r
    office.bye()
    office.close()
    return r["case_id"]


def events(broker, case_id: str, type_: str) -> list[dict]:
    rows = broker.query("SELECT type, data FROM events WHERE case_id = ? ORDER BY seq", (case_id,))
    return [json.loads(d) for t, d in rows if t == type_]


def dispatch_of(broker, case_id: str) -> str:
    return events(broker, case_id, "case.dispatched")[0]["dispatch"]["dispatch_id"]


def queued_ids(broker) -> list[str]:
    """Every act the console's adapter ever queued (answered or not), by request id."""
    db = broker.workdir / "data" / "acts" / "reli-console.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return [r[0] for r in con.execute("SELECT id FROM acts ORDER BY seq")]
    finally:
        con.close()


def log_in(driver, listen: str, login: str, password: str) -> None:
    driver.get(f"http://{listen}/login")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()


def wait(driver, timeout: float = 20) -> WebDriverWait:
    return WebDriverWait(driver, timeout)


def row(driver, subject: str):
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#items tr[data-subject='{subject}']")))


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


# --------------------------------------------------------------------------------------------


def test_a_seat_signs_for_and_finishes_a_case_on_the_page(make_broker, processes, zmq_ctx, browser):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, console_adapter(broker, listen), listen, 1))

    # A wrong password is refused, and the inbox stays closed.
    log_in(browser, listen, "wangwu", "not-the-password")
    assert "账号或密码错误" in wait(browser).until(EC.presence_of_element_located((By.ID, "error"))).text
    browser.get(f"http://{listen}/")
    assert browser.current_url.endswith("/login"), browser.current_url
    assert not browser.find_elements(By.ID, "items")

    log_in(browser, listen, "wangwu", SEATS["wangwu"][1])
    wait(browser).until(EC.presence_of_element_located((By.ID, "items")))
    assert browser.title == "收件箱 · 座席端 · 热力公司 供热服务中心", browser.title

    # The case reaches the open page live (server-sent events): no reload.
    browser.execute_script("window.__loadedOnce = true")
    case_id = submit(broker, zmq_ctx, "CS-1", "暖气不热，室温只有14度", address="民主路12号院3号楼2单元")
    dispatch_id = dispatch_of(broker, case_id)
    r = row(browser, dispatch_id)
    assert browser.execute_script("return window.__loadedOnce === true"), "the page was reloaded"
    assert r.get_attribute("data-state") == "sent" and "待签收" in r.text and "暖气不热" in r.text and "民主路12号院" in r.text, r.text
    wait_until(lambda: broker.query("SELECT count(*) FROM outbox WHERE target = 'agency:reli'")[0][0] == 0, 20,
               "the DISPATCH acknowledged once it is in the inbox")

    # 签收
    r.find_element(By.TAG_NAME, "a").click()
    wait(browser).until(EC.element_to_be_clickable((By.ID, "do-ack"))).click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "flash"), "「签收」已提交"))
    assert browser.find_element(By.ID, "state").get_attribute("data-state") == "acked"
    acked = wait_until(lambda: events(broker, case_id, "dispatch.acked"), 20, "dispatch.acked")
    assert acked[0]["dispatch_id"] == dispatch_id and acked[0].get("handler") == "王五", acked
    ups = wait_until(lambda: events(broker, case_id, "downstream.update"), 20, "downstream.update")
    assert ups[0]["status"] == "console:ack" and ups[0]["update"].startswith("wangwu:") and ups[0]["ref"].startswith("ZX-"), ups

    # 办结 without the required photo: refused on the page, the field named, nothing queued or sent.
    browser.find_element(By.ID, "f_result").send_keys("已上门排气，室温恢复至19℃")
    browser.find_element(By.ID, "f_temperature").send_keys("19")
    browser.find_element(By.ID, "do-resolve").click()
    error = wait(browser).until(EC.presence_of_element_located((By.ID, "error")))
    assert "处置后照片URL" in error.text and "必填" in error.text, error.text
    assert not [i for i in queued_ids(broker) if i.startswith("zx-resolve")], queued_ids(broker)
    assert not events(broker, case_id, "case.resolved")
    # What was typed is still there; add the photo and finish.
    assert browser.find_element(By.ID, "f_result").get_attribute("value") == "已上门排气，室温恢复至19℃"
    browser.find_element(By.ID, "f_photo").send_keys("https://files.example/reli/CS-1-after.jpg")
    browser.find_element(By.ID, "do-resolve").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "flash"), "「办结」已提交"))
    assert browser.find_element(By.ID, "state").get_attribute("data-state") == "resolved"
    resolved = wait_until(lambda: events(broker, case_id, "case.resolved"), 20, "case.resolved")[0]
    assert resolved.get("result") == "已上门排气，室温恢复至19℃", resolved
    assert [a["url"] for a in resolved.get("attachments", [])] == ["https://files.example/reli/CS-1-after.jpg"], resolved
    assert "复测室温（℃）：19" in (resolved.get("note") or ""), resolved
    assert len(events(broker, case_id, "dispatch.acked")) == 1

    # The inbox for the docs: two more cases waiting, the finished one below them.
    browser.get(f"http://{listen}/")
    wait(browser).until(EC.presence_of_element_located((By.ID, "items")))
    more = [submit(broker, zmq_ctx, "CS-2", "暖气片阀门漏水，地面积水", category="heating_leak", address="大学路56号院2号楼"),
            submit(broker, zmq_ctx, "CS-3", "整栋楼暖气不热", address="航海中路18号院")]
    for c in more:
        row(browser, dispatch_of(broker, c))
    assert row(browser, dispatch_id).get_attribute("data-state") == "resolved"
    assert browser.find_element(By.ID, "open-count").text == "2"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    # The window's 1280×800 is not its viewport's: set the viewport itself (DevTools protocol).
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    assert browser.save_screenshot(str(SCREENSHOT))
    assert png_size(SCREENSHOT) == (1280, 800), png_size(SCREENSHOT)


def test_the_inbox_survives_a_kill_9_and_a_form_sent_twice_is_one_act(make_broker, processes, zmq_ctx, browser):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = console_adapter(broker, listen)
    adapter = start_adapter(broker, config, listen, 1)
    processes.append(adapter)
    log_in(browser, listen, "zhaoliu", SEATS["zhaoliu"][1])
    case_id = submit(broker, zmq_ctx, "CS-K", "暖气不热", address="嵩山南路9号院")
    dispatch_id = dispatch_of(broker, case_id)
    row(browser, dispatch_id).find_element(By.TAG_NAME, "a").click()
    item_url = browser.current_url

    # The 签收 form sent twice with its nonce (a double click that got through): one act.
    form = browser.find_element(By.ID, "form-ack")
    nonce = form.find_element(By.NAME, "nonce").get_attribute("value")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    for _ in range(2):
        req = urllib.request.Request(form.get_attribute("action"), data=f"nonce={nonce}&note=".encode(), method="POST",
                                     headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with HTTP.open(req, timeout=30) as r:
                assert r.status == 200 and "「签收」已提交" in r.read().decode()  # followed the 303
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{e.code}: {e.read().decode()}") from e
    assert [i for i in queued_ids(broker) if i.startswith("zx-ack")] == [f"zx-ack-1-{nonce}"], queued_ids(broker)
    wait_until(lambda: events(broker, case_id, "dispatch.acked"), 20, "dispatch.acked")

    # kill -9, restart: the item is there, signed for; a new login is needed (sessions are in memory).
    adapter.kill9()
    processes.append(start_adapter(broker, config, listen, 2))
    browser.get(item_url)
    assert browser.current_url.endswith("/login")
    log_in(browser, listen, "zhaoliu", SEATS["zhaoliu"][1])
    r = row(browser, dispatch_id)
    assert r.get_attribute("data-state") == "acked" and "处置中" in r.text, r.text
    browser.get(item_url)
    assert browser.find_element(By.ID, "state").get_attribute("data-state") == "acked"
    assert "签收" in browser.find_element(By.CLASS_NAME, "history").text
    assert len(events(broker, case_id, "dispatch.acked")) == 1
    # The redelivered DISPATCH (if any) is the same item, not a second one.
    assert len(browser.find_elements(By.CSS_SELECTOR, "#items tr")) == 0  # (on the item page)
    browser.get(f"http://{listen}/")
    assert len(browser.find_elements(By.CSS_SELECTOR, f"#items tr[data-subject='{dispatch_id}']")) == 1
