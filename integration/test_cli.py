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
    # A case's clocks leave rung rows; verify-log replays the log and must find exactly them in
    # the timers table (they are written as changes, so a lost change would show here).
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
    with con:
        con.execute("DELETE FROM timers WHERE id = ?", (rungs[0][0],))
    con.close()
    v = verify_log(broker.db)
    assert v.returncode == 1, v.stdout
    assert f"rung {rungs[0][0]}: waiting by the log, not in the timers table" in v.stdout, v.stdout
