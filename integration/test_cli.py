"""An honest CLI: the real `muster` binary against the real broker (CURVE on unless a test says
otherwise). Each way a command can fail has its own message and exit code (`muster --help`,
docs/OPERATIONS.md); enumerated options take codes or Chinese names; the operator's acts
(assign, reject, verify, evaluate, extend, backlog) and `mode list` work end to end."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import (GRID, MUSTER_BIN, REPO_DIR, Process, adapter_config, case_body, free_port, read_key, run_cli,
                      verify_log, wait_until)

# The exit codes of `muster --help` (Sources/muster/Failure.swift).
USAGE, BAD_FILE, NO_FILE, TOO_LARGE, UNREACHABLE = 64, 65, 66, 67, 69
MISMATCH, KEY_REFUSED, BAD_REQUEST, NOT_FOUND, WRONG_STATE = 76, 77, 80, 82, 83


def ok(r, what: str = "command") -> str:
    assert r.returncode == 0, f"{what} failed ({r.returncode}):\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r.stdout


def case_json(broker, case_id: str) -> dict:
    return json.loads(ok(broker.cli("case", case_id, "--json"), f"muster case {case_id}"))


def submit(broker, title: str, ref: str, *extra: str) -> dict:
    r = broker.cli("submit", "--title", title, "--grid", GRID, "--address", f"{title} {ref}",
                   "--external-ref", ref, "--json", *extra)
    return json.loads(ok(r, "muster submit"))


def cases(broker, *args: str) -> list[str]:
    """Case ids listed by `muster cases ARGS` (its --json)."""
    r = broker.cli("cases", *args, "--json")
    return [c["case_id"] for c in json.loads(ok(r, "muster cases"))["cases"]]


def keys_gen(name: str, folder: Path) -> tuple[Path, Path]:
    ok(run_cli("keys", "gen", name, "--dir", str(folder)), "muster keys gen")
    return folder / f"{name}.key", folder / f"{name}.pub"


# --------------------------------------------------------------------------------------------
# failures, one test each


def test_cli_unreachable_broker(tmp_path):
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    r = run_cli("cases", "--endpoint", endpoint, "--insecure", cwd=tmp_path)
    # Its own code, not the timeout's (74): the probe found nothing listening, no waiting.
    assert r.returncode == UNREACHABLE, r
    assert f"nothing is listening on {endpoint[6:]}" in r.stderr, r.stderr


def test_cli_refused_key_names_key_file_and_fingerprint(make_broker, tmp_path):
    broker = make_broker(secure=True)
    key, _ = keys_gen("stranger", tmp_path)
    fingerprint = read_key(key)["public"][:8]
    r = run_cli("cases", "--endpoint", broker.endpoint, "--server-key", str(broker.keys_dir / "broker.pub"),
                "--key", str(key), cwd=broker.workdir)
    assert r.returncode == KEY_REFUSED, r
    assert str(key) in r.stderr and f"fingerprint {fingerprint}" in r.stderr, r.stderr
    assert "refused" in r.stderr and "peers.yaml" in r.stderr, r.stderr
    # The broker's log names the same fingerprint, so the two can be matched.
    wait_until(lambda: f"fingerprint={fingerprint}" in broker.stderr_tail(200), 5, "the broker's refusal log line")


def test_cli_insecure_against_curve_broker(make_broker):
    broker = make_broker(secure=True)
    r = run_cli("cases", "--endpoint", broker.endpoint, "--insecure", cwd=broker.workdir)
    assert r.returncode == MISMATCH, r
    assert "requires CURVE" in r.stderr and "--insecure" in r.stderr, r.stderr


def test_cli_curve_against_insecure_broker(make_broker, tmp_path):
    broker = make_broker()  # --insecure
    key, pub = keys_gen("op", tmp_path)
    r = run_cli("cases", "--endpoint", broker.endpoint, "--server-key", str(pub), "--key", str(key), cwd=tmp_path)
    assert r.returncode == MISMATCH, r
    assert "runs without CURVE" in r.stderr and "started with --insecure" in r.stderr, r.stderr
    assert "Add --insecure" in r.stderr, r.stderr


def test_cli_too_large_is_refused_before_sending(make_broker, tmp_path):
    broker = make_broker(secure=True)
    for size in (2 << 20, 9 << 20):  # over 1 MiB (too_large), over 8 MiB (the broker would drop us)
        big = tmp_path / f"big-{size}.json"
        big.write_text(json.dumps({"source": "hotline_12345", "external_ref": f"BIG-{size}", "title": "x" * size,
                                   "location": {"grid": GRID}}), encoding="utf-8")
        r = broker.cli("submit", "--file", str(big))
        assert r.returncode == TOO_LARGE, r
        assert "1 048 576 bytes (1 MiB)" in r.stderr and "Nothing was sent" in r.stderr, r.stderr
    assert cases(broker) == []


def test_cli_bad_file_says_line_and_column_at_once(make_broker, tmp_path):
    broker = make_broker(secure=True)
    bad = tmp_path / "case.json"
    bad.write_text('{\n  "title": "暖气不热",\n  "source": hotline_12345,\n  "location": {}\n}\n', encoding="utf-8")
    r = broker.cli("submit", "--file", str(bad))
    assert r.returncode == BAD_FILE, r
    assert f"{bad}:3:13: expected a value" in r.stderr, r.stderr
    # Checked before anything is sent: against an endpoint where nothing listens it is still
    # the file's error, not "unreachable".
    nowhere = run_cli("submit", "--file", str(bad), "--endpoint", f"tcp://127.0.0.1:{free_port()}", "--insecure", cwd=tmp_path)
    assert nowhere.returncode == BAD_FILE, nowhere
    truncated = tmp_path / "short.json"
    truncated.write_text('{"title": "路灯不亮", "location": {"grid": "zz"}', encoding="utf-8")
    r = broker.cli("submit", "--file", str(truncated))
    assert r.returncode == BAD_FILE and f"{truncated}:1:" in r.stderr and "end of file" in r.stderr, r


def test_cli_missing_file(make_broker, tmp_path):
    broker = make_broker(secure=True)
    missing = tmp_path / "nope.json"
    r = broker.cli("submit", "--file", str(missing))
    assert r.returncode == NO_FILE, r
    assert f"no such file: {missing}" in r.stderr, r.stderr
    assert "NSCocoaErrorDomain" not in r.stderr + r.stdout


def test_cli_broker_error_codes_are_printed_with_their_class(make_broker):
    broker = make_broker(secure=True)
    r = broker.cli("case", "C9999999999")
    assert r.returncode == NOT_FOUND and "unknown_case: no case C9999999999" in r.stderr, r
    r = broker.cli("extend", "D9999999999", "--by", "1wd", "--reason", "需协调")
    assert r.returncode == NOT_FOUND and "unknown_dispatch" in r.stderr, r

    case_id = submit(broker, "人行道流动摊贩占道经营", "CLI-ERR-1", "--category", "street_vending")["case_id"]
    r = broker.cli("verify", case_id, "--passed")
    assert r.returncode == WRONG_STATE, r
    assert "invalid_transition" in r.stderr and "state: dispatched (已派单)" in r.stderr, r.stderr

    r = broker.cli("mode", "set", "emergency", "--scope", "zz/nowhere")
    assert r.returncode == BAD_REQUEST, r
    assert "bad_field" in r.stderr and "field: scope" in r.stderr, r.stderr


# --------------------------------------------------------------------------------------------
# enumerated options


def test_cli_enumerated_options_take_chinese_names(make_broker):
    broker = make_broker(secure=True)
    c = submit(broker, "小区暖气不热，室温14度", "CLI-ZH-1", "--category", "暖气不热", "--source", "信访",
               "--priority", "紧急")
    got = case_json(broker, c["case_id"])["case"]
    assert (got["category"], got["source"], got["priority"]) == ("heating_not_warm", "petition", "urgent"), got
    assert c["case_id"] in cases(broker, "--state", "已派单")
    assert cases(broker, "--state", "已派单") == cases(broker, "--state", "dispatched")
    assert c["case_id"] in cases(broker, "--agency", "热力")
    assert cases(broker, "--agency", "热力") == cases(broker, "--agency", "reli")
    r = broker.cli("mode", "set", "重大活动", "--scope", "zz/erqi")
    assert "major_event (重大活动)" in ok(r), r


def test_cli_enumerated_options_reject_unknown_values_listing_valid_ones(make_broker):
    broker = make_broker(secure=True)
    r = broker.cli("cases", "--state", "办完")
    assert r.returncode == USAGE, r
    assert re.search(r"finished\s+已办结", r.stderr) and re.search(r"closed\s+已结案", r.stderr), r.stderr
    r = broker.cli("cases", "--agency", "消防")
    assert r.returncode == USAGE and re.search(r"reli\s+热力", r.stderr) and re.search(r"shichang\s+市场监管", r.stderr), r
    r = broker.cli("evaluate", "C0000000001", "--satisfaction", "很好")
    assert r.returncode == USAGE and re.search(r"basically_satisfied\s+基本满意", r.stderr), r
    # An unknown category is an error, not a silent trip to triage; no category still classifies.
    r = broker.cli("submit", "--title", "小区暖气不热", "--grid", GRID, "--category", "暖气冷")
    assert r.returncode == USAGE and re.search(r"heating_not_warm\s+暖气不热", r.stderr), r
    assert cases(broker) == []
    c = submit(broker, "小区暖气不热", "CLI-KW-1")
    assert case_json(broker, c["case_id"])["case"]["category"] == "heating_not_warm"


# --------------------------------------------------------------------------------------------
# version and help


def test_cli_version_and_exit_code_table():
    r = run_cli("--version")
    assert r.returncode == 0 and "0.1.0" in r.stdout, r
    help_text = ok(run_cli("--help"))
    codes = re.findall(r"(?m)^  (\d+)\s{2,}\S", help_text.split("Exit codes", 1)[1])
    assert {"0", "64", "65", "66", "67", "69", "76", "77", "80", "81", "82", "83"} <= set(codes), codes
    # docs/OPERATIONS.md carries the same table.
    ops = (REPO_DIR / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"(?m)^\| (\d+) \|", ops))
    assert documented == set(codes), (documented, codes)


# --------------------------------------------------------------------------------------------
# the operator's acts


def test_cli_verify_and_evaluate_a_finished_case(make_broker, processes):
    broker = make_broker(secure=True)
    cfg = adapter_config(broker.workdir, "reli", return_probability=0)
    reli = Process([str(MUSTER_BIN), "adapter", "--config", str(cfg), "--endpoint", broker.endpoint],
                   cwd=broker.workdir, name="adapter-reli")
    processes.append(reli)
    reli.wait_line(r"connecting to", 15)
    case_id = submit(broker, "暖气不热，室温只有14度", "CLI-ACT-1", "--category", "heating_not_warm")["case_id"]
    wait_until(lambda: case_json(broker, case_id)["case"]["state"] == "finished", 20, "the simulated 热力 to finish")

    r = broker.cli("verify", case_id, "--passed", "--note", "网格员现场核查：室温已达标")
    assert f"case {case_id} — verified (已核实)" in ok(r, "muster verify"), r.stdout
    r = broker.cli("evaluate", case_id, "--satisfaction", "满意", "--note", "回访：满意")
    assert f"case {case_id} — closed (已结案)" in ok(r, "muster evaluate"), r.stdout
    timeline = case_json(broker, case_id)["timeline"]
    verified = [e for e in timeline if e["type"] == "case.verified"]
    evaluated = [e for e in timeline if e["type"] == "case.evaluated"]
    assert verified and verified[0]["data"]["passed"] is True and verified[0]["actor"].startswith("cli-")
    assert evaluated and evaluated[0]["data"]["satisfaction"] == "satisfied"


def test_a_stopped_adapter_says_bye_before_it_exits(make_broker, processes):
    """SIGTERM: the adapter's BYE reaches the broker before the process is gone (libzmq sends it
    from its I/O thread), so the broker ends the session for "BYE" at once and a sibling gets
    the pushes — not after three missed heartbeats."""
    broker = make_broker(secure=True)
    cfg = adapter_config(broker.workdir, "reli", return_probability=0)
    reli = Process([str(MUSTER_BIN), "adapter", "--config", str(cfg), "--endpoint", broker.endpoint],
                   cwd=broker.workdir, name="adapter-reli-bye")
    processes.append(reli)
    wait_until(lambda: re.search(r"adapter=reli-sim-1 .*session started", broker.stderr_tail(300)), 15, "reli-sim-1's session")
    assert reli.stop() == 0
    wait_until(lambda: re.search(r"adapter=reli-sim-1 reason=BYE .*session ended", broker.stderr_tail(300)), 10,
               "the broker to end reli-sim-1's session for its BYE")


def test_cli_assign_and_reject_triage_cases(make_broker):
    broker = make_broker(secure=True)
    # No category and no keyword: both wait in triage (研判).
    noise = submit(broker, "楼下广场舞音响声音太大", "CLI-TRI-1")
    advice = submit(broker, "想咨询住房公积金提取政策", "CLI-TRI-2")
    assert noise["state"] == advice["state"] == "triage", (noise, advice)

    r = broker.cli("assign", noise["case_id"], "--lead", "城管", "--assist", "gongan", "--note", "社会生活噪声，城管牵头")
    out = ok(r, "muster assign")
    assert f"case {noise['case_id']} — dispatched (已派单)" in out and "→ chengguan, assists gongan" in out, out
    got = case_json(broker, noise["case_id"])
    assert got["case"]["lead"] == "chengguan" and got["case"]["assigned"] is True, got["case"]
    assert sorted(d["agency"] for d in got["dispatches"]) == ["chengguan", "gongan"]

    r = broker.cli("reject", advice["case_id"], "--reason", "政策咨询，已告知拨打12329住房公积金热线")
    assert f"case {advice['case_id']} — rejected (不予受理)" in ok(r, "muster reject"), r.stdout
    r = broker.cli("reject", advice["case_id"], "--reason", "again")
    assert r.returncode == WRONG_STATE and "state: rejected (不予受理)" in r.stderr, r


def test_cli_extend_and_backlog(make_broker):
    broker = make_broker(secure=True, start=False)
    # 道路保洁 must be finished within 2 s here, so that its dispatch is overdue at once.
    sla = broker.config.parent / "sla.yaml"
    text, n = re.subn(r"(category: \[road_cleaning\]\n\s+resolve_within:) 2wh", r"\1 2s", sla.read_text(encoding="utf-8"))
    assert n == 1, "sla.yaml has no road_cleaning rule with resolve_within 2wh"
    sla.write_text(text, encoding="utf-8")
    broker.start()

    vending = submit(broker, "人行道流动摊贩占道经营", "CLI-EXT-1", "--category", "street_vending")
    lead = [d for d in case_json(broker, vending["case_id"])["dispatches"] if d["role"] == "lead"][0]
    r = broker.cli("extend", lead["dispatch_id"], "--by", "2wd", "--reason", "摊贩流动性大，需联合夜查", "--json")
    extended = json.loads(ok(r, "muster extend"))
    assert extended["dispatch_id"] == lead["dispatch_id"] and extended["resolve_by"] > lead["resolve_by"], extended
    r = broker.cli("backlog", lead["dispatch_id"], "--explanation", "摊贩夜间流动出摊，已纳入联合夜查计划")
    assert r.returncode == WRONG_STATE and "state: in_time (未到期)" in r.stderr, r

    dirty = submit(broker, "道路保洁不到位，落叶堆积", "CLI-BL-1", "--category", "road_cleaning")
    (dispatch,) = case_json(broker, dirty["case_id"])["dispatches"]
    wait_until(lambda: dirty["case_id"] in cases(broker, "--overdue"), 15, "the 2 s deadline to pass")
    r = broker.cli("backlog", dispatch["dispatch_id"], "--explanation", "环卫车辆检修，已协调区环卫所明日清扫")
    assert f"case {dirty['case_id']} — dispatched (已派单), dispatch {dispatch['dispatch_id']}" in ok(r, "muster backlog")
    assert case_json(broker, dirty["case_id"])["case"]["backlog"] == "环卫车辆检修，已协调区环卫所明日清扫"


def test_cli_mode_list(make_broker):
    broker = make_broker(secure=True)
    assert "no mode set: normal (平时) everywhere" in ok(broker.cli("mode", "list"))
    ok(broker.cli("mode", "set", "应急", "--scope", "zz/erqi"))
    ok(broker.cli("mode", "set", "holiday"))
    out = ok(broker.cli("mode", "list"))
    assert re.search(r"zz/erqi\s+emergency \(应急\)", out) and re.search(r"zz\s+holiday \(节假日\)", out), out
    listed = json.loads(ok(broker.cli("mode", "list", "--json")))["modes"]
    assert [(m["scope"], m["mode"]) for m in listed] == [("zz", "holiday"), ("zz/erqi", "emergency")], listed


# --------------------------------------------------------------------------------------------
# make run


def _agencies() -> list[str]:
    text = (REPO_DIR / "config" / "routing.yaml").read_text(encoding="utf-8")
    agencies_part = text.split("\ncategories:", 1)[0]
    return re.findall(r"(?m)^  - code: (\w+)", agencies_part)


def test_run_sh_iterates_config_adapters_and_every_agency_has_a_simulator():
    script = (REPO_DIR / "scripts" / "run.sh").read_text(encoding="utf-8")
    assert "for cfg in config/adapters/*.yaml" in script, "run.sh must start what config/adapters holds"
    assert "chengguan gongan" not in script, "no fixed list of agencies"
    peers = (REPO_DIR / "config" / "peers.yaml").read_text(encoding="utf-8")
    by_agency = {}
    for f in sorted((REPO_DIR / "config" / "adapters").glob("*.yaml")):
        t = f.read_text(encoding="utf-8")
        m = re.search(r"(?m)^agency: (\w+)", t)
        if m:
            by_agency[m.group(1)] = (f.name, t)
    for agency in _agencies():
        assert agency in by_agency, f"no adapter in config/adapters for {agency}"
        name, t = by_agency[agency]
        adapter = re.search(r"(?m)^adapter: (\S+)", t).group(1)
        assert f"public_key_file: ../data/keys/{adapter}.pub" in peers, f"{adapter} ({name}) has no key in peers.yaml"


@pytest.mark.slow
def test_run_sh_signs_every_agencys_dispatches(tmp_path, monkeypatch):
    # make run's script in a copy of the project's config, on a free port.
    shutil.copytree(REPO_DIR / "config", tmp_path / "config")
    for f in (tmp_path / "config" / "adapters").glob("*.yaml"):
        f.write_text(re.sub(r"(?m)^(\s*return_probability:\s*)[0-9.]+", r"\g<1>0", f.read_text(encoding="utf-8")),
                     encoding="utf-8")
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MUSTER_ENDPOINT", endpoint)
    # The screen and the broker's health port, on free ports too; both answer once it runs.
    web, health = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("MUSTER_WEB", web)
    monkeypatch.setenv("MUSTER_METRICS", health)
    run = Process(["bash", str(REPO_DIR / "scripts" / "run.sh"), str(MUSTER_BIN)], cwd=tmp_path, name="run-sh")
    try:
        run.wait_line(r"Muster is running", 30)
        for agency in _agencies():
            run.wait_line(rf"^  {agency} ", 5)

        def cli(*args: str):
            return run_cli(*args, "--endpoint", endpoint, cwd=tmp_path)  # the default key files under data/keys

        ids = []
        for i, category in enumerate(["food_safety", "road_collapse", "street_vending", "heating_not_warm",
                                      "water_outage"]):
            r = cli("submit", "--title", f"样例 {category}", "--category", category, "--grid", GRID,
                    "--address", f"样例地址 {i}", "--json")
            ids.append(json.loads(ok(r, "muster submit"))["case_id"])

        def signed_agencies():
            signed = set()
            for case_id in ids:
                for d in json.loads(ok(cli("case", case_id, "--json")))["dispatches"]:
                    if d["state"] in ("acked", "finished"):
                        signed.add(d["agency"])
            return signed if signed >= set(_agencies()) else None

        wait_until(signed_agencies, 20, "every agency's simulator to sign for its dispatches")
        status = wait_until(lambda: (lambda r: r if r.returncode == 0 else None)(run_cli("status", "--broker", health, "--web", web)), 20,
                            "muster status: broker and screen ready")
        assert status.stdout.count("就绪 ready") == 2, status.stdout
    finally:
        run.stop()
        # run.sh's trap stops the broker and adapters; make sure the broker (pid in DB.pid) is gone.
        pid_file = tmp_path / "data" / "muster.db.pid"
        pid = pid_file.read_text().strip() if pid_file.exists() else ""
        if pid.isdigit() and Path(f"/proc/{pid}").exists():
            try:
                wait_until(lambda: not Path(f"/proc/{pid}").exists(), 10, "run.sh's broker to stop")
            except AssertionError:
                os.kill(int(pid), signal.SIGKILL)
                raise


def test_verify_log_checks_the_waiting_rungs(make_broker, peers):
    # A case's clocks leave waiting rungs (one ladders row per owner, shown a rung a row by the
    # timers view); verify-log replays the log and must find exactly them (they are written as
    # changes, so a lost change would show here).
    broker = make_broker()
    hotline = peers(broker.endpoint, "hotline-v", ["intake"])
    hotline.hello()
    r = hotline.request("SUBMIT", {"case": case_body("井盖丢了", "VL-1", address="解放路9号")})
    assert r.command == "ACCEPTED" and r["state"] == "dispatched", r
    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0 and "waiting rungs" in v.stdout, v.stdout
    rungs = broker.query("SELECT id FROM timers ORDER BY id")
    assert rungs, "a dispatched case has rungs waiting"
    con = sqlite3.connect(broker.db)  # the broker has stopped: a tamperer's hand
    with con:  # the rung taken out of its owner's row
        con.execute("""UPDATE ladders SET rungs = (SELECT json_group_array(json(value)) FROM json_each(rungs)
                                                   WHERE coalesce(value ->> 7, owner || '/' || (value ->> 0) || '/' || (value ->> 1)) <> ?)
                       WHERE owner = (SELECT owner FROM timers WHERE id = ?)""", (rungs[0][0], rungs[0][0]))
    con.close()
    v = verify_log(broker.db)
    assert v.returncode == 1, v.stdout
    assert f"rung {rungs[0][0]}: waiting by the log, not in the timers table" in v.stdout, v.stdout


# --------------------------------------------------------------------------------------------
# the whistle (吹哨报到): muster whistle [blow|show|stand-down], muster whistles,
# muster stats --whistles, muster lifecycle --machine whistle|summon

WHISTLE_OK = re.compile(r"^OK: whistle (W\d{10}) — summoned (\w+(?:, \w+)*), on site by (\S+)$")
JIEFANGLU = "郑州市 / 二七区 / 解放路街道"  # GRID's name as the broker prints it
ERQITA_UNITS = ["chengguan", "gongan", "shichang", "jiaotong", "zhujian"]  # grids.yaml dedicated[0].units
ALL_AGENCIES = ["chengguan", "gongan", "zhujian", "reli", "gongshui", "jiaotong", "shichang"]  # all serve zz


def blow(broker, *args: str) -> tuple[str, list[str], datetime]:
    """`muster whistle ARGS`: (whistle id, agencies summoned, report_by) from its OK line."""
    out = ok(broker.cli("whistle", *args), "muster whistle").strip()
    m = WHISTLE_OK.match(out)
    assert m, f"not a whistle's OK line: {out!r}"
    return m.group(1), m.group(2).split(", "), datetime.fromisoformat(m.group(3))


def agency_peer(broker, peers, agency: str):
    """The sample deployment's simulated department AGENCY-sim-1 (its CURVE key), said HELLO."""
    p = peers(broker.endpoint, f"{agency}-sim-1", ["agency"], agency=agency, auto_received=True,
              curve=broker.curve(f"{agency}-sim-1"))
    p.hello()
    return p


def summon_for(peer, whistle_id: str):
    return peer.expect_push("SUMMON", 10, where=lambda m: m.get("whistle_id") == whistle_id)


def department_line(out: str, agency: str) -> str:
    """The one line of `muster whistles` / `whistle show` for AGENCY's summon."""
    lines = [ln for ln in out.splitlines() if re.match(rf"^\s+{agency}\s+\w+\(", ln)]
    assert len(lines) == 1, f"{agency}: {lines!r} in\n{out}"
    return lines[0]


def test_cli_whistle_blow_with_chinese_names_summons_the_agency_peers(make_broker, peers):
    broker = make_broker(secure=True)
    chengguan, gongan, zhujian = (agency_peer(broker, peers, a) for a in ("chengguan", "gongan", "zhujian"))

    reason = "解放路夜市占道经营联合执法"
    before = datetime.now().astimezone()
    wid, summoned, report_by = blow(broker, "--grid", GRID, "--summon", "城管,公安", "--reason", reason)
    after = datetime.now().astimezone()
    assert wid == "W0000000001" and summoned == ["chengguan", "gongan"], (wid, summoned)
    # The default window, sla.yaml's whistle_within: 30 min.
    assert before + timedelta(minutes=30, seconds=-1) <= report_by <= after + timedelta(minutes=30, seconds=1), report_by
    for peer in (chengguan, gongan):
        s = summon_for(peer, wid)
        assert (s["summon_id"], s["agency"]) == (f"{wid}/{peer.agency}", peer.agency), s
        assert (s["kind"], s["grid"], s["grid_name"], s["reason"]) == ("enforcement", GRID, JIEFANGLU, reason), s
        assert datetime.fromisoformat(s["report_by"]) == report_by, s
        assert "case_id" not in s.body, s

    # The full-width comma ，, a code next to a name, a kind and a window of our own, --json.
    r = broker.cli("whistle", "--grid", GRID, "--summon", "住建，chengguan", "--reason", "危房外墙脱落",
                   "--kind", "resident_concern", "--within", "1h", "--json")
    second = json.loads(ok(r, "muster whistle --json"))
    assert (second["whistle_id"], second["state"], second["summoned"]) == ("W0000000002", "open",
                                                                           ["zhujian", "chengguan"]), second
    # zhujian was not summoned to the first whistle: its first SUMMON is the second's.
    first_zj = zhujian.expect_push("SUMMON", 10)
    assert first_zj["whistle_id"] == "W0000000002", first_zj
    assert first_zj["kind"] == "resident_concern", first_zj
    assert datetime.fromisoformat(first_zj["report_by"]) - datetime.fromisoformat(first_zj["summoned_at"]) == \
        timedelta(hours=1), first_zj
    assert summon_for(chengguan, "W0000000002")["summon_id"] == "W0000000002/chengguan"
    # Nor gongan to the second: its next SUMMON is a third whistle's.
    third, _, _ = blow(broker, "--grid", GRID, "--summon", "公安", "--reason", "夜间噪声")
    assert gongan.expect_push("SUMMON", 10)["whistle_id"] == third == "W0000000003"


def test_cli_whistle_without_summon_takes_the_dedicated_grids_units(make_broker):
    broker = make_broker(secure=True)
    wid, summoned, _ = blow(broker, "--grid", "erqita", "--reason", "二七塔商圈节日客流疏导")
    assert summoned == ERQITA_UNITS, summoned
    # An emergency: the units, then every other agency with an instance serving the grid.
    wid, summoned, _ = blow(broker, "--grid", "erqita", "--kind", "emergency", "--reason", "人群聚集")
    assert summoned[:len(ERQITA_UNITS)] == ERQITA_UNITS and sorted(summoned) == sorted(ALL_AGENCIES), summoned
    out = ok(broker.cli("whistle", "show", wid))
    assert out.startswith(f"{wid}  open(进行中)  emergency  二七塔商圈  人群聚集\n"), out


def test_cli_whistle_refused_when_nobody_is_to_be_summoned(make_broker):
    broker = make_broker(secure=True)
    # Not a dedicated grid, no case, not an emergency, no --summon: whom to summon?
    r = broker.cli("whistle", "--grid", "zz/guancheng", "--reason", "商户投诉")
    assert r.returncode == BAD_REQUEST, r
    assert "the broker refused WHISTLE: bad_field" in r.stderr and "field: summon" in r.stderr, r.stderr
    assert "郑州市 / 管城回族区 is not a dedicated grid with units" in r.stderr, r.stderr
    assert r.stdout == "", r.stdout
    assert ok(broker.cli("whistles")).strip() == "no open whistles"
    # The same place in an emergency has whom to summon: every agency serving zz. The refused
    # whistle took no id.
    wid, summoned, _ = blow(broker, "--grid", "zz/guancheng", "--kind", "emergency", "--reason", "燃气泄漏")
    assert wid == "W0000000001" and sorted(summoned) == sorted(ALL_AGENCIES), (wid, summoned)


def test_cli_whistles_counts_down_to_on_site(make_broker, peers):
    broker = make_broker(secure=True)
    chengguan = agency_peer(broker, peers, "chengguan")
    assert ok(broker.cli("whistles")).strip() == "no open whistles"
    wid, _, report_by = blow(broker, "--grid", GRID, "--summon", "城管,公安", "--reason", "占道经营联合执法")

    t0 = datetime.now().astimezone()
    out = ok(broker.cli("whistles"))
    t1 = datetime.now().astimezone()
    assert out.splitlines()[0] == f"{wid}  open(进行中)  enforcement  {JIEFANGLU}  占道经营联合执法", out
    for agency in ("chengguan", "gongan"):
        m = re.match(r"^\s+\S+\s+summoned\(已吹哨\)\s+(\d+)m(\d+)s left$", department_line(out, agency))
        assert m, out
        left = int(m.group(1)) * 60 + int(m.group(2))
        assert (report_by - t1).total_seconds() - 1 <= left <= (report_by - t0).total_seconds() + 1, (left, out)

    summon_for(chengguan, wid)
    before = datetime.now().astimezone()
    r = chengguan.request("REPORT", {"whistle_id": wid, "status": "on_site", "note": "中队已到场"})
    after = datetime.now().astimezone()
    assert (r.command, r.get("state"), r.get("on_time")) == ("OK", "on_site", True), r
    out = ok(broker.cli("whistles"))
    m = re.match(r"^\s+chengguan\s+on_site\(已报到\)\s+on site (\S+) 按时$", department_line(out, "chengguan"))
    assert m, out
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(m.group(1)) <= after + timedelta(seconds=1), out
    assert re.match(r"^\s+gongan\s+summoned\(已吹哨\)\s+\d+m\d+s left$", department_line(out, "gongan")), out

    ok(broker.cli("whistle", "stand-down", wid, "--note", "整治完毕"))
    assert ok(broker.cli("whistles")).strip() == "no open whistles"
    out = ok(broker.cli("whistles", "--all"))
    assert out.splitlines()[0] == f"{wid}  closed(已撤哨)  enforcement  {JIEFANGLU}  占道经营联合执法", out


def test_cli_whistle_add_release_and_stand_down(make_broker, peers):
    broker = make_broker(secure=True)
    zhujian = agency_peer(broker, peers, "zhujian")
    wid, _, _ = blow(broker, "--grid", GRID, "--summon", "城管,公安", "--reason", "沿街违建拆除")

    # 增派: one more department to the open whistle.
    added, summoned, _ = blow(broker, "--add", wid, "--summon", "住建")
    assert (added, summoned) == (wid, ["zhujian"]), (added, summoned)
    s = summon_for(zhujian, wid)
    assert (s["summon_id"], s["agency"], s["grid"]) == (f"{wid}/zhujian", "zhujian", GRID), s

    # Let one go early: the whistle stays open.
    out = ok(broker.cli("whistle", "stand-down", wid, "--agency", "住建", "--note", "无需住建"))
    assert out.strip() == f"OK: whistle {wid} — open, zhujian released", out
    out = ok(broker.cli("whistles"))
    assert out.startswith(f"{wid}  open(进行中)"), out
    assert re.match(r"^\s+zhujian\s+released\(提前解除\)", department_line(out, "zhujian")), out
    assert re.match(r"^\s+chengguan\s+summoned\(已吹哨\)", department_line(out, "chengguan")), out

    out = ok(broker.cli("whistle", "stand-down", wid, "--note", "拆除完毕"))
    assert out.strip() == f"OK: whistle {wid} — closed", out
    shown = ok(broker.cli("whistle", "show", wid))
    assert shown.startswith(f"{wid}  closed(已撤哨)"), shown
    for agency in ("chengguan", "gongan"):
        assert re.match(rf"^\s+{agency}\s+stood_down\(已撤离\)", department_line(shown, agency)), shown
    assert re.match(r"^\s+zhujian\s+released\(提前解除\)", department_line(shown, "zhujian")), shown
    # Nothing more on a closed whistle.
    r = broker.cli("whistle", "--add", wid, "--summon", "交通")
    assert r.returncode == WRONG_STATE and f"whistle {wid} is closed (已撤哨)" in r.stderr, r
    r = broker.cli("whistle", "stand-down", wid)
    assert r.returncode == WRONG_STATE and "invalid_transition" in r.stderr, r


def test_cli_whistle_on_an_open_case_stands_down_only_with_override(make_broker):
    broker = make_broker(secure=True)
    case_id = submit(broker, "人行道流动摊贩占道经营", "CLI-WH-1", "--category", "street_vending")["case_id"]
    # Blown on the case: its lead and assists come (street_vending in 二七塔: 城管, 公安, 市场监管).
    wid, summoned, _ = blow(broker, "--grid", GRID, "--case", case_id, "--reason", "摊贩聚集，联合执法")
    assert summoned == ["chengguan", "gongan", "shichang"], summoned

    # 事不完、人不撤: the case is still dispatched.
    r = broker.cli("whistle", "stand-down", wid, "--note", "收队")
    assert r.returncode == WRONG_STATE, r
    assert "the broker refused STAND_DOWN: invalid_transition" in r.stderr and "事不完、人不撤" in r.stderr, r.stderr
    assert f"case {case_id} is dispatched (已派单)" in r.stderr and "state: dispatched (已派单)" in r.stderr, r.stderr
    assert ok(broker.cli("whistles")).startswith(f"{wid}  open(进行中)")

    override = "现场秩序已恢复，案件转常规办理"
    out = ok(broker.cli("whistle", "stand-down", wid, "--override", override))
    assert out.strip() == f"OK: whistle {wid} — closed", out
    shown = ok(broker.cli("whistle", "show", wid))
    assert shown.startswith(f"{wid}  closed(已撤哨)"), shown
    assert f"case {case_id}" in shown and f"overridden: {override}" in shown, shown
    assert re.search(rf"(?m)撤哨 stood down \[whistle\.stood_down\].*— override: {override}$", shown), shown
    # Standing the whistle down does not touch the case.
    assert case_json(broker, case_id)["case"]["state"] == "dispatched"


def test_cli_whistle_show_prints_the_timeline(make_broker, peers):
    broker = make_broker(secure=True)
    gongan = agency_peer(broker, peers, "gongan")
    wid, _, _ = blow(broker, "--grid", GRID, "--summon", "公安,城管", "--reason", "噪声扰民")
    summon_for(gongan, wid)
    for status in ("en_route", "on_site"):
        r = gongan.request("REPORT", {"whistle_id": wid, "status": status})
        assert (r.command, r.get("state")) == ("OK", status), r
    ok(broker.cli("whistle", "stand-down", wid, "--agency", "城管"))
    ok(broker.cli("whistle", "stand-down", wid, "--note", "处置完毕"))

    out = ok(broker.cli("whistle", "show", wid))
    assert out.startswith(f"{wid}  closed(已撤哨)  enforcement  {JIEFANGLU}  噪声扰民\n"), out
    timeline = out.split("  timeline:\n", 1)[1]
    entries = re.findall(r"(?m)^\s+#(\d+)\s+\S+\s+(.+?) \[([a-z_.]+)\]\s+by (\S+)", timeline)
    seqs = [int(e[0]) for e in entries]
    assert seqs == sorted(seqs), timeline
    whistle_events = [(label, kind, by) for _, label, kind, by in entries if kind.startswith("whistle.")]
    cli_ = whistle_events[0][2]
    assert cli_.startswith("cli-"), whistle_events
    assert [(label, kind) for label, kind, _ in whistle_events] == [
        ("吹哨 whistle blown", "whistle.blown"),
        ("召集 summoned", "whistle.summoned"),
        ("召集 summoned", "whistle.summoned"),
        ("报到 reported", "whistle.reported"),
        ("报到 reported", "whistle.reported"),
        ("提前解除 released", "whistle.released"),
        ("撤哨 stood down", "whistle.stood_down"),
    ], timeline
    assert [by for label, kind, by in whistle_events if kind == "whistle.reported"] == ["gongan-sim-1"] * 2
    assert re.search(r"(?m)召集 summoned \[whistle\.summoned\].*— agency: gongan; report_by: ", timeline), timeline
    assert re.search(r"(?m)报到 reported \[whistle\.reported\].*— agency: gongan; status: on_site$", timeline), timeline
    assert re.search(r"(?m)提前解除 released \[whistle\.released\].*— agency: chengguan$", timeline), timeline

    r = broker.cli("whistle", "show", "W0000009999")
    assert r.returncode == NOT_FOUND and "unknown_whistle: no whistle W0000009999" in r.stderr, r


def test_cli_whistle_stats_count_the_departments_and_the_streets(make_broker, peers):
    broker = make_broker(secure=True)
    chengguan = agency_peer(broker, peers, "chengguan")
    wid, _, _ = blow(broker, "--grid", GRID, "--summon", "城管,公安", "--reason", "占道经营联合执法")
    summon_for(chengguan, wid)
    r = chengguan.request("REPORT", {"id": "rep-stats-1", "whistle_id": wid, "status": "on_site"})
    assert r.command == "OK" and r.body == {"re": "rep-stats-1", "whistle_id": wid, "agency": "chengguan",
                                            "state": "on_site", "on_time": True}, r
    # gongan is let go before it came: released, not "never".
    ok(broker.cli("whistle", "stand-down", wid, "--agency", "公安"))
    # A second whistle, in a grid of the same street, of another kind.
    blow(broker, "--grid", f"{GRID}/minzhulu/g01", "--summon", "住建", "--reason", "楼道堆物", "--kind", "resident_concern")

    out = ok(broker.cli("stats", "--whistles"))
    lines = out.splitlines()
    assert re.match(r"^departments \(报到\)\s+summoned\s+on time\s+late\s+never\s+released\s+waiting\s+按时报到率\s+"
                    r"median to on site$", lines[0]), out

    def row(agency: str) -> list[str]:
        rows = [ln.split() for ln in lines if ln.split()[:1] == [agency]]
        assert len(rows) == 1, f"{agency} in\n{out}"
        return rows[0][1:]

    #                       summoned on time late never released waiting rate
    assert row("chengguan")[:7] == ["1", "1", "0", "0", "0", "0", "100.0%"], out
    assert re.fullmatch(r"\d+m\d+s", row("chengguan")[7]), out
    assert row("gongan")[:6] == ["1", "0", "0", "0", "1", "0"], out
    assert row("zhujian")[:6] == ["1", "0", "0", "0", "0", "1"], out
    assert not [ln for ln in lines if ln.split()[:1] in (["reli"], ["shichang"])], out

    streets = lines.index("streets (吹哨)")
    grids = lines.index("grids (吹哨)")
    assert 0 < streets < grids, out
    for header in (lines[streets + 1], lines[grids + 1]):
        assert re.search(r"^\s+blown\s+emergency\s+enforcement\s+resident\s+stood down\s+solved\s+no-show\s+where$", header), out
    # Counts first, the place's name last (names are of any length).
    counts = r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(?:[\d.]+%|-)\s+(\d+)\s+"
    # Both whistles are 解放路街道's: blown 2, of them 1 enforcement and 1 resident concern.
    street_rows = [re.match(rf"{counts}{JIEFANGLU}", ln) for ln in lines[streets + 2:grids]]
    assert len(street_rows) == 1 and street_rows[0], out
    assert street_rows[0].groups() == ("2", "0", "1", "1", "0", "0"), out
    # Per grid they are apart.
    grid_rows = [ln for ln in lines[grids + 2:] if ln.strip()]
    assert len(grid_rows) == 2, out
    m = re.match(rf"{counts}{JIEFANGLU}", grid_rows[0])
    assert m and m.groups() == ("1", "0", "1", "0", "0", "0"), out


def test_cli_whistle_lifecycle_machines():
    out = ok(run_cli("lifecycle", "--machine", "whistle"))
    assert re.match(r"^from\s+trigger\s+guards\s+to\s+effects$", out.splitlines()[0]), out
    for rx in (r"open\(进行中\)\s+summon 增派\s+open\(进行中\)\s+summon_each",
               r"open\(进行中\)\s+stand_down 撤哨\s+case_finished\s+closed\(已撤哨\)\s+stand_down_all",
               r"open\(进行中\)\s+override 指挥中心撤哨\s+closed\(已撤哨\)\s+stand_down_all",
               r"any other \(state, trigger\): invalid_transition"):
        assert re.search(rf"(?m)^{rx}\s*$", out), (rx, out)
    assert not re.search(r"(?m)^closed\(", out), "nothing leaves closed"

    out = ok(run_cli("lifecycle", "--machine", "summon"))
    for rx in (r"summoned\(已吹哨\)\s+en_route 出发\s+en_route\(在途\)",
               r"summoned\(已吹哨\)\s+on_site 报到\s+on_site\(已报到\)\s+stop\(whistle\)",
               r"en_route\(在途\)\s+on_site 报到\s+on_site\(已报到\)\s+stop\(whistle\)",
               r"summoned\(已吹哨\)\s+rung_due 催办/督办/通报\s+summoned\(已吹哨\)\s+escalate",
               r"on_site\(已报到\)\s+release 提前解除\s+released\(提前解除\)\s+stop\(whistle\), withdraw",
               r"en_route\(在途\)\s+stand_down 撤离\s+stood_down\(已撤离\)\s+stop\(whistle\), withdraw"):
        assert re.search(rf"(?m)^{rx}\s*$", out), (rx, out)
    # A department on site is not chased any more.
    assert not re.search(r"(?m)^on_site\(已报到\)\s+rung_due", out), out
    assert "override" not in out and "summon 增派" not in out, out

    dot = ok(run_cli("lifecycle", "--machine", "whistle", "--dot"))
    assert dot.startswith("digraph whistle {") and dot.rstrip().endswith("}"), dot
    assert r'w_open -> w_closed [label="stand_down\n撤哨\n[case_finished]"];' in dot, dot
    dot = ok(run_cli("lifecycle", "--machine", "summon", "--dot"))
    assert dot.startswith("digraph summon {") and r's_summoned -> s_on_site [label="on_site\n报到"];' in dot, dot
    assert re.search(r's_released \[label="released\\n提前解除", peripheries=2\];', dot), dot

    r = run_cli("lifecycle", "--machine", "nonsense")
    assert r.returncode == USAGE, r
    assert "case, dispatch, whistle, summon" in r.stderr and "nonsense" in r.stderr, r.stderr


# Once known bugs (strict xfails until fixed): --kind by name, a whistle's state named as a
# whistle's, grids told apart in stats.


def test_cli_whistle_kind_takes_chinese_names(make_broker):
    broker = make_broker(secure=True)
    wid, _, _ = blow(broker, "--grid", GRID, "--summon", "城管", "--reason", "群众反映噪声", "--kind", "群众诉求")
    assert ok(broker.cli("whistle", "show", wid)).startswith(f"{wid}  open(进行中)  resident_concern  ")


def test_cli_whistle_refusal_names_the_whistles_state(make_broker):
    broker = make_broker(secure=True)
    wid, _, _ = blow(broker, "--grid", GRID, "--summon", "城管", "--reason", "占道经营")
    ok(broker.cli("whistle", "stand-down", wid))
    r = broker.cli("whistle", "stand-down", wid)
    assert r.returncode == WRONG_STATE, r
    assert "state: closed (已撤哨)" in r.stderr, r.stderr


def test_cli_whistle_stats_tell_grids_apart(make_broker):
    broker = make_broker(secure=True)
    for g in ("g01", "g02"):
        blow(broker, "--grid", f"{GRID}/minzhulu/{g}", "--summon", "住建", "--reason", f"楼道堆物 {g}")
    out = ok(broker.cli("stats", "--whistles"))
    grid_rows = [ln for ln in out.split("grids (吹哨)", 1)[1].splitlines()[2:] if ln.strip()]
    labels = [re.sub(r"^\s+(\d+\s+){5}(?:[\d.]+%|-)\s+\d+\s+", "", row) for row in grid_rows]
    assert len(labels) == 2 and len(set(labels)) == 2, out


def test_bench_peers_reads_back_the_shared_harness_and_gives_the_ratios(tmp_path):
    """`muster bench peers --log` summarises a saved run of ../shared/bench-peers/sidebyside.sh:
    medians over the interleaved runs and Muster's ratio to each peer (the run recorded here is
    docs/PERFORMANCE.md's "Issue 16, first round"). Without the harness it says what is missing."""
    r = run_cli("bench", "peers", "--log", str(REPO_DIR / "integration" / "data" / "sidebyside-2026-12-03.log"))
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split() for line in r.stdout.splitlines()[1:] if not line.startswith("Muster /")}
    # medians of the 3 runs: 6936 of (6936, 7455, 6850); CPU = cores / rate (1.41/6936 → 203 µs)
    assert rows["Muster"][1:5] == ["3", "6936", "203", "1.41"], r.stdout
    assert rows["RabbitMQ"][1:5] == ["3", "28066", "47", "1.32"], r.stdout
    assert rows["NATS"][2:6] == ["3", "74337", "16", "1.21"], r.stdout
    assert "Muster / RabbitMQ: 0.25× acknowledged/s (medians)" in r.stdout
    assert "Muster / NATS JetStream: 0.09×" in r.stdout

    empty = tmp_path / "empty.log"
    empty.write_text("nothing ran\n", encoding="utf-8")
    r = run_cli("bench", "peers", "--log", str(empty))
    assert r.returncode == 65 and "no run of the harness" in r.stderr, r.stderr
    r = run_cli("bench", "peers", "--harness", str(tmp_path / "nowhere"), "--scratch", str(tmp_path / "s"))
    assert r.returncode == 69 and "the shared harness is not at" in r.stderr and "--harness" in r.stderr, r.stderr


def test_bench_peers_lifecycles_are_compared_with_rabbitmqs_seven_message_cases(tmp_path):
    """`muster bench peers --lifecycles` runs the harness's job and then whole lifecycles, once a
    repetition; read back, each repetition's lifecycles a second are compared with its own
    RabbitMQ run as cases of seven messages (the issue's target 2). The run recorded here is
    docs/PERFORMANCE.md's "Issue 16, fourteenth round"."""
    r = run_cli("bench", "peers", "--log", str(REPO_DIR / "integration" / "data" / "sidebyside-lifecycles-2026-12-05.log"))
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split() for line in r.stdout.splitlines()[1:3]}
    assert rows["Muster"][1:3] == ["3", "21018"] and rows["RabbitMQ"][1:3] == ["3", "44386"], r.stdout
    assert "Muster lifecycles: 7623 cases/s (median of 3; 7 messages each)" in r.stdout, r.stdout
    # 7327 × 7 / 44386, 7623 × 7 / 44635, 7730 × 7 / 43029: each against the RabbitMQ run before it
    assert "Muster lifecycles / RabbitMQ's 7-message cases: 1.20× (median; each repetition 1.16, 1.20, 1.26)" in r.stdout, r.stdout

    r = run_cli("bench", "peers", "--steady", "--lifecycles", "--harness", str(tmp_path / "nowhere"), "--scratch", str(tmp_path / "s"))
    assert r.returncode == 64 and "--steady and --lifecycles" in r.stderr, r.stderr
