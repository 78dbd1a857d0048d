"""`muster web`, the operations centre's screen (issue 15 item 1), black-box in headless Chromium:
the real broker with cases in several streets — four of them submitted under a clock 20 days back
(faketime), so that after a restart on today's clock they are overdue and their ladders have fired —
and `muster web` as its monitor peer. The page shows the counts, the map coloured per street, the
overdue list with the rung each reached, the departments' figures; a case submitted while the page
is open appears in its live feed and in its counts; the case page shows the case's course; /readyz
is ready while the broker answers and not once it is gone. A screenshot of the screen at 1920×1080
is kept as a test artifact (.build/test-logs/screen.png; docs/images/screen.png with
MUSTER_DOCS_SCREENSHOT=1)."""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import MUSTER_BIN, REPO_DIR, Peer, Process, case_body, chromium, free_port, http_get, wait_until
from test_calendar import at
from test_console import png_size

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ARTIFACT = REPO_DIR / ".build" / "test-logs" / "screen.png"
DOCS = REPO_DIR / "docs" / "images" / "screen.png"


get = http_get


def start_web(broker, listen: str) -> Process:
    p = Process([str(MUSTER_BIN), "web", "--listen", listen, "--endpoint", broker.endpoint,
                 "--server-key", str(broker.keys_dir / "broker.pub"), "--key", str(broker.keys_dir / "ops-screen.key"),
                 "--config", str(broker.config)], cwd=broker.workdir, name="web")
    wait_until(lambda: get(listen, "/readyz")[0] == 200 or not p.alive, 20, "muster web ready")
    assert p.alive, p.stderr_tail()
    return p


def submit(office: Peer, ref: str, title: str, grid: str, category: str = "street_vending") -> str:
    r = office.request("SUBMIT", {"case": case_body(title, ref, category=category, grid=grid, address=f"{title}（{ref}）")})
    assert r.command == "ACCEPTED", r
    return r["case_id"]


@pytest.fixture
def wall():
    """Chromium at a wall screen's 1920×1080 (the viewport itself, through the DevTools protocol)."""
    driver = chromium(1920, 1080)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    yield driver
    driver.quit()


def text(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def test_the_screen_shows_the_city_and_a_new_case_arrives_live(make_broker, processes, zmq_ctx, wall):
    past = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 20 * 86400))
    broker = make_broker(secure=True, prefix=at(past))
    office = Peer(broker.endpoint, "cli-screen", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    old = [submit(office, "WEB-1", "解放路民主路口流动摊贩", "zz/erqi/jiefanglu/minzhulu/g01"),
           submit(office, "WEB-2", "解放路人行道摊点占道", "zz/erqi/jiefanglu"),
           submit(office, "WEB-3", "花园路纬五路垃圾暴露", "zz/jinshui/huayuanlu/weiwulu/g01", category="exposed_garbage"),
           submit(office, "WEB-4", "德化街商户出店经营", "zz/erqi/dehuajie")]
    office.close()
    broker.stop()
    broker.prefix = []                          # today: the four are 15 days past their deadlines
    broker.start()
    office = Peer(broker.endpoint, "cli-screen", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    fresh = submit(office, "WEB-5", "西大街顺城街占道经营", "zz/guancheng/xidajie/shuncheng/g01")
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_web(broker, listen))

    status, body = get(listen, "/readyz")
    ready = json.loads(body)
    assert status == 200 and ready["state"] == "ready" and ready["broker_session"] == "welcomed", ready
    assert get(listen, "/healthz")[0] == 200

    wall.get(f"http://{listen}/")
    assert text(wall, "#open-count") == "5"
    assert text(wall, "#overdue-count") == "4"
    assert text(wall, "#today-count") == "1"
    jiefanglu = wall.find_element(By.CSS_SELECTOR, "polygon.street[data-grid='zz/erqi/jiefanglu']")
    assert (jiefanglu.get_attribute("data-open"), jiefanglu.get_attribute("data-overdue")) == ("2", "2")
    assert "late" in jiefanglu.get_attribute("class")
    xidajie = wall.find_element(By.CSS_SELECTOR, "polygon.street[data-grid='zz/guancheng/xidajie']")
    assert (xidajie.get_attribute("data-open"), xidajie.get_attribute("data-overdue")) == ("1", "0")
    assert wall.find_elements(By.CSS_SELECTOR, "polygon.dedicated[data-dedicated='erqita']"), "the 专属网格 is outlined"
    assert "二七塔商圈：在办 4，超期 3" in text(wall, ".dedicated-note[data-dedicated='erqita']")
    # The overdue list: each of the four, with the rung its ladder reached.
    rows = wall.find_elements(By.CSS_SELECTOR, ".overdue-box tr[data-case]")
    assert sorted(r.get_attribute("data-case") for r in rows) == sorted(old)
    first = wall.find_element(By.CSS_SELECTOR, f".overdue-box tr[data-case='{old[0]}']")
    assert "城管" in first.text and first.find_element(By.CSS_SELECTOR, ".rung").text in ("催办", "督办", "通报"), first.text
    # This month's dispatches by department: the fresh case's 城管 dispatch.
    league = wall.find_element(By.CSS_SELECTOR, ".league tr[data-agency='chengguan']")
    assert league.find_elements(By.TAG_NAME, "td")[1].text == "1", league.text
    assert text(wall, ".intake-box li[data-source='hotline_12345'] b") == "1"
    assert wall.find_element(By.ID, "broker-health").get_attribute("data-ok") == "true"

    # A whistle on 二七塔商圈: 城管 reports on site, the others count down to their report_by.
    ops = Peer(broker.endpoint, "cli-screen-ops", ["ops"], ctx=zmq_ctx, curve=broker.curve("operator"))
    ops.hello()
    w = ops.request("WHISTLE", {"grid": "erqita", "kind": "enforcement", "reason": "二七塔商圈占道经营联合执法", "summon": ["chengguan", "gongan"]})
    assert w.command == "OK", w
    cg = Peer(broker.endpoint, "chengguan-sim-1", ["agency"], agency="chengguan", ctx=zmq_ctx, curve=broker.curve("chengguan-sim-1"),
              auto_received=True)
    cg.hello()
    assert cg.request("REPORT", {"whistle_id": w["whistle_id"], "status": "on_site", "note": "中队已到场"}).command == "OK"
    WebDriverWait(wall, 15).until(lambda d: text(d, "#whistle-count") == "1")
    whistle = wall.find_element(By.CSS_SELECTOR, f".whistle[data-whistle='{w['whistle_id']}']")
    assert "二七塔商圈" in whistle.text and "城管 已到场" in whistle.text, whistle.text
    countdown = whistle.find_element(By.CSS_SELECTOR, ".waiting .countdown")
    assert countdown.text.startswith("剩 2") or countdown.text.startswith("剩 3"), countdown.text   # report_within 30m
    ops.close()
    cg.close()

    # A case submitted now appears in the live feed and in the counts.
    WebDriverWait(wall, 10).until(lambda d: text(d, "#live") == "实时")
    live = submit(office, "WEB-6", "解放路夜市占道", "zz/erqi/jiefanglu/zhengxingjie/g01")
    WebDriverWait(wall, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#feed li[data-type='case.accepted'] a[href='/case/{live}']"))
    WebDriverWait(wall, 15).until(lambda d: text(d, "#open-count") == "6")
    WebDriverWait(wall, 15).until(lambda d: d.find_element(
        By.CSS_SELECTOR, "polygon.street[data-grid='zz/erqi/jiefanglu']").get_attribute("data-open") == "3")
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    assert wall.save_screenshot(str(ARTIFACT)) and png_size(ARTIFACT) == (1920, 1080)
    if os.environ.get("MUSTER_DOCS_SCREENSHOT") == "1":
        DOCS.write_bytes(ARTIFACT.read_bytes())

    # On a laptop's 1366×768 the same page reflows: nothing wider than the window.
    wall.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    wall.get(f"http://{listen}/")
    assert wall.execute_script("return document.documentElement.scrollWidth") <= 1366
    assert wall.find_element(By.CSS_SELECTOR, "svg.map").size["width"] > 600, "the map takes the page's width"
    wall.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})

    # The case page: its course from QUERY case.
    wall.get(f"http://{listen}/case/{old[0]}")
    assert "解放路民主路口流动摊贩" in text(wall, "article")
    types = [li.get_attribute("data-seq") for li in wall.find_elements(By.CSS_SELECTOR, ".timeline li")]
    assert len(types) >= 3 and types == sorted(types, key=int), types
    assert "受理" in text(wall, ".timeline") and "派单" in text(wall, ".timeline")
    # Its links in the hash chain, checked by the broker on what it stored.
    assert wall.find_element(By.ID, "chain").get_attribute("data-intact") == "true", text(wall, "#chain")
    items = wall.find_elements(By.CSS_SELECTOR, ".timeline li")
    assert all(len(li.get_attribute("data-hash")) == 64 and li.get_attribute("data-intact") == "true" for li in items)
    assert get(listen, "/case/C9999999999")[0] == 404
    # Search by the hotline's reference finds the case.
    status, page = get(listen, "/search?q=WEB-5")
    assert status == 200 and fresh in page, page
    office.close()

    # A stored event edited behind the broker's back: the case page says its chain is broken, and where.
    import sqlite3
    seq = int(items[1].get_attribute("data-seq"))
    con = sqlite3.connect(str(broker.db), timeout=10)
    con.execute("UPDATE events SET actor = 'someone-else' WHERE seq = ?", (seq,))
    con.commit()
    con.close()
    wall.get(f"http://{listen}/case/{old[0]}")
    assert wall.find_element(By.ID, "chain").get_attribute("data-intact") == "false", text(wall, "#chain")
    assert wall.find_element(By.CSS_SELECTOR, f".timeline li[data-seq='{seq}']").get_attribute("data-intact") == "false"

    # The broker gone: not ready (the screen says so), still alive.
    broker.stop()
    wait_until(lambda: get(listen, "/readyz")[0] == 503, 20, "/readyz unready without a broker")
    assert get(listen, "/healthz")[0] == 200


def test_a_page_reconnecting_gets_the_events_it_missed(make_broker, processes, zmq_ctx):
    """The feed's stream resumes after the last event a page saw (Last-Event-ID), in order; a
    SIGTERM with a page listening ends the web at once and cleanly."""
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    web = start_web(broker, listen)
    processes.append(web)
    office = Peer(broker.endpoint, "cli-screen", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    first = submit(office, "SSE-1", "第一件", "zz/erqi/jiefanglu")

    def stream(last: str | None, enough) -> list[dict]:
        """The events of /events (resuming after `last`) until `enough(got)` says so."""
        req = urllib.request.Request(f"http://{listen}/events", headers={"Last-Event-ID": last} if last else {})
        got: list[dict] = []
        with HTTP.open(req, timeout=10) as r:
            for raw in r:
                line = raw.decode().rstrip("\n")
                if line.startswith("data: ") and line != "data: {}":
                    got.append(json.loads(line[6:]))
                    if enough(got):
                        break
        return got

    def has(case_id: str):
        return lambda got: any(e["subject"] == case_id and e["type"] == "case.accepted" for e in got)

    stream(None, has(first))
    seen = stream("0", lambda got: len(got) >= 1)
    assert seen[0]["seq"] == 1 and seen[0]["type"] == "case.accepted" and seen[0]["subject"] == first, seen
    second = submit(office, "SSE-2", "第二件", "zz/erqi/dehuajie")
    # Resuming after the first event: what followed it, in log order (the wall leaves out the timers
    # started, clock.scheduled), each once — as a replay from the start shows them after seq 1.
    resumed = stream("1", has(second))
    seqs = [e["seq"] for e in resumed]
    assert seqs == sorted(set(seqs)) and seqs[0] > 1 and all(e["type"] != "clock.scheduled" for e in resumed), resumed
    everything = stream("0", has(second))
    assert seqs == [e["seq"] for e in everything][1:], (resumed, everything)
    # A page that saw everything gets only what is new.
    last = str(seqs[-1])
    third = submit(office, "SSE-3", "第三件", "zz/erqi/minggonglu")
    after = stream(last, has(third))
    assert all(e["seq"] > seqs[-1] for e in after) and after[-1]["subject"] == third, after
    # 信访 figures on the screen (issue 14 item 5): a petition registered this month is counted.
    r = office.request("SUBMIT", {"case": case_body("信访：小区垃圾长期无人清运", "XF-WEB-1", category="exposed_garbage",
                                                    grid="zz/erqi/jiefanglu", source="petition")})
    assert r.command == "ACCEPTED", r
    status, panels = get(listen, "/screen/panels")
    assert status == 200 and "登记 1 件" in panels, panels
    for figure in ("timely_acceptance_rate", "on_time_finish_rate", "satisfaction_rate", "participation_rate", "review_rate", "repeat_rate"):
        assert f'data-figure="{figure}"' in panels, figure

    # A page still listening does not hold the web up: SIGTERM ends its stream, the server, the session.
    page = HTTP.open(urllib.request.Request(f"http://{listen}/events"), timeout=10)
    assert page.readline().startswith(b"retry:")
    assert web.stop(timeout=10) == 0, web.stderr_tail()   # a hang ends in SIGKILL: -9
    page.close()
    office.close()


def operators_file(path: Path) -> Path:
    """config/web.yaml with two operators: 张三 may do everything, 李四 only assign."""
    import base64, hashlib
    def h(password: str, salt: str) -> str:
        return f"pbkdf2_sha256$210000${salt}$" + base64.b64encode(hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 210000)).decode()
    path.write_text(f"""title: 郑州市城市运行中心
operators:
  - login: zhangsan
    name: 张三（值班长）
    may: [assign, reject, extend, whistle]
    password_hash: "{h('zhiban-2026!', 'salt-zhangsan')}"
  - login: lisi
    name: 李四（调度员）
    may: [assign]
    password_hash: "{h('diaodu-2026!', 'salt-lisi')}"
""", encoding="utf-8")
    return path


def post(listen: str, path: str, form: dict, cookie: str | None = None) -> tuple[int, str, dict]:
    data = urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(f"http://{listen}{path}", data=data, method="POST",
                                 headers={"Cookie": cookie} if cookie else {})
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k): return None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
    try:
        with opener.open(req, timeout=15) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def test_an_operator_logs_in_and_acts_under_their_own_name(make_broker, processes, zmq_ctx, wall, tmp_path):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    p = Process([str(MUSTER_BIN), "web", "--listen", listen, "--endpoint", broker.endpoint,
                 "--server-key", str(broker.keys_dir / "broker.pub"), "--key", str(broker.keys_dir / "ops-screen.key"),
                 "--operator-key", str(broker.keys_dir / "ops-desk.key"),
                 "--config", str(broker.config), "--operators", str(operators_file(tmp_path / "web.yaml"))], cwd=broker.workdir, name="web")
    processes.append(p)
    wait_until(lambda: get(listen, "/readyz")[0] == 200 or not p.alive, 20, "muster web ready")
    office = Peer(broker.endpoint, "cli-ops", ["intake"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    r = office.request("SUBMIT", {"case": case_body("人行道上有个洞，很危险", "OP-1", category=None, grid="zz/erqi/jiefanglu",
                                                    reporter={"name": "王女士", "phone": "138-0000-1111"})})
    assert r.command == "ACCEPTED" and r["state"] == "triage", r
    case_id = r["case_id"]
    # The same phone on a petition: never found by phone (who petitioned stays with the handling desk).
    p = office.request("SUBMIT", {"case": case_body("信访：小区垃圾长期无人清运", "XF-OP-1", category="exposed_garbage", source="petition",
                                                    grid="zz/erqi/dehuajie", reporter={"name": "王女士", "phone": "13800001111"})})
    assert p.command == "ACCEPTED", p
    # Finding people by phone is for role ops: an intake session is refused.
    refused = office.request("QUERY", {"what": "cases", "phone": "13800001111"})
    assert refused.command == "ERROR" and refused["code"] == "forbidden" and refused["detail"]["field"] == "phone", refused
    office.close()

    # Not logged in: the page offers no act, and a POST is refused.
    wall.get(f"http://{listen}/case/{case_id}")
    assert not wall.find_elements(By.ID, "act-assign") and wall.find_element(By.ID, "login-link")
    assert post(listen, f"/case/{case_id}/assign", {"lead": "zhujian"})[0] == 401
    # A wrong password is refused; the right one comes back to the case.
    wall.get(f"http://{listen}/login?next=/case/{case_id}")
    wall.find_element(By.ID, "login").send_keys("zhangsan")
    wall.find_element(By.ID, "password").send_keys("wrong")
    wall.find_element(By.ID, "sign-in").click()
    WebDriverWait(wall, 15).until(lambda d: d.find_elements(By.ID, "login-error"))
    assert "账号或密码错误" in text(wall, "#login-error")
    wall.find_element(By.ID, "login").send_keys("zhangsan")
    wall.find_element(By.ID, "password").send_keys("zhiban-2026!")
    wall.find_element(By.ID, "sign-in").click()
    WebDriverWait(wall, 15).until(lambda d: d.find_elements(By.ID, "act-assign"))
    assert "张三（值班长）" in text(wall, "#operator") and wall.find_elements(By.ID, "act-reject")

    # 指派: 住建 leads, 公安 assists — an ASSIGN under 张三's own session.
    from selenium.webdriver.support.ui import Select
    Select(wall.find_element(By.CSS_SELECTOR, "#act-assign select[name='lead']")).select_by_value("zhujian")
    wall.find_element(By.CSS_SELECTOR, "#act-assign input[name='assist.gongan']").click()
    wall.find_element(By.CSS_SELECTOR, "#act-assign input[name='note']").send_keys("塌陷隐患，住建牵头")
    wall.find_element(By.CSS_SELECTOR, "#act-assign button").click()
    WebDriverWait(wall, 15).until(lambda d: "done=assign" in d.current_url or d.find_elements(By.ID, "refusal"))
    assert "「指派」已提交" in text(wall, "#flash"), text(wall, "article")
    assert text(wall, "#case-state") == "已派单"
    assigned = broker.query("SELECT actor, data FROM events WHERE case_id = ? AND type = 'case.assigned'", (case_id,))
    assert len(assigned) == 1 and assigned[0][0] == "ops-screen-zhangsan", assigned
    assert json.loads(assigned[0][1])["lead"] == "zhujian" and json.loads(assigned[0][1])["assists"] == ["gongan"], assigned

    # 延期: approved by the centre, under 张三's name.
    wall.find_element(By.CSS_SELECTOR, "#act-extend input[name='reason']").send_keys("需协调管线单位")
    wall.find_element(By.CSS_SELECTOR, "#act-extend button").click()
    WebDriverWait(wall, 15).until(lambda d: "done=extend" in d.current_url or d.find_elements(By.ID, "refusal"))
    assert "done=extend" in wall.current_url, text(wall, "article")
    extended = broker.query("SELECT actor FROM events WHERE case_id = ? AND type = 'dispatch.extended'", (case_id,))
    assert extended == [("ops-screen-zhangsan",)], extended

    # The broker's refusal reaches the operator: no 不予受理 once the case is dispatched.
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in wall.get_cookies())
    status, page, _ = post(listen, f"/case/{case_id}/reject", {"reason": "重复"}, cookie)
    assert status == 409 and "invalid_transition" in page, page
    # 李四 may only assign: 吹哨 is refused by the screen before the broker.
    status, _, headers = post(listen, "/login", {"login": "lisi", "password": "diaodu-2026!", "next": "/"})
    assert status == 303, status
    lisi = headers["Set-Cookie"].split(";")[0]
    status, page, _ = post(listen, f"/case/{case_id}/whistle", {"kind": "enforcement", "reason": "联合执法"}, lisi)
    assert status == 403 and "无权" in page, page
    assert broker.query("SELECT count(*) FROM whistles")[0][0] == 0
    # Search by phone: for a logged-in operator, the cases that phone reported, shown masked, no petition.
    status, page = get(listen, "/search?q=13800001111")
    assert status == 401 and "值班登录" in page, page
    zhangsan = next(c for c in wall.get_cookies() if c["name"] == "muster_operator")
    req = urllib.request.Request(f"http://{listen}/search?q=138%200000%201111", headers={"Cookie": f"muster_operator={zhangsan['value']}"})
    with HTTP.open(req, timeout=15) as r:
        page = r.read().decode()
    assert case_id in page and "138****1111" in page and "13800001111" not in page and "138 0000 1111" not in page, page
    assert p["case_id"] not in page, "a petition found by phone"
    # Logged out: back to read-only.
    wall.find_element(By.CSS_SELECTOR, "#operator button").click()
    WebDriverWait(wall, 10).until(lambda d: d.find_elements(By.ID, "login-link"))
