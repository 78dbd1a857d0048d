"""`muster import petition FILE` (issue 14 item 4, registration by import), black-box: the real broker,
the real petition adapter (`plugin: petition`) and the CLI importing the office's register (信访登记簿)
through the adapter's registration API, as `muster import hotline` imports the 12345 platform's export
(the same reader, state file and report). Good rows become petitions (one per 信访件编号), bad rows —
unreadable ones and those the API answers 422 — are listed in FILE.rejected.csv with their row
numbers, corrected rows go on the next run and nothing else is sent again; --restart finds every
row already there. Plugins/Petition/README.md ("Import") is the contract."""
from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

from conftest import free_port
from test_hotline_import import count, write_csv
from test_hotline_import import run_import as hotline_run_import
from test_petition import call, form, petition_adapter, start_adapter

HEADER = ["信访件编号", "登记时间", "信访形式", "信访事项", "地址", "网格", "类别", "被反映单位", "信访人", "联系电话", "是否匿名", "登记人"]
BAD = {4: ("channel", "传真"), 7: ("grid", "zz/atlantis"), 9: ("content", "")}


def register(n: int = 10) -> list[list[str]]:
    """n rows (row numbers 2..n+1), each a different petitioner about a different door: none is
    another's repeat; the rows of BAD carry a fault."""
    out = []
    for i in range(1, n + 1):
        r = [f"XF-IMP-{i:03d}", f"2026-12-02 09:{i:02d}:00", "来信", f"解放路{i}号门前人行道长期被违章停车占用，第{i}封来信",
             f"二七区解放路{i}号", "zz/erqi/jiefanglu", "illegal_parking", "chengguan", f"信访人{i}", f"138000022{i:02d}", "否", "李登记"]
        fault = BAD.get(i + 1)
        if fault:
            r[{"channel": 2, "grid": 5, "content": 3}[fault[0]]] = fault[1]
        out.append(r)
    return out


def run_import(broker, config: Path, file: Path, *args: str) -> subprocess.CompletedProcess:
    return hotline_run_import(broker, config, file, *args, kind="petition")


def petitions(broker, no: str) -> list[tuple]:
    return broker.query("SELECT case_id, source, petition FROM cases WHERE external_ref = ?", (no,))


def test_a_register_is_imported_bad_rows_reported_corrected_rows_sent_and_nothing_doubled(make_broker, processes, tmp_path):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = petition_adapter(broker, listen)
    processes.append(start_adapter(broker, config, 1, listen))
    # One petition of the day the office's system had already registered live.
    assert call(listen, "POST", "/v1/petitions", form("XF-IMP-002", address="二七区解放路2号"))[0] == 201
    live = petitions(broker, "XF-IMP-002")[0][0]

    body = register()
    body.append(list(body[0]))                 # row 12: row 2's 信访件编号 again
    file = write_csv(tmp_path / "登记簿.csv", HEADER, body)
    r = run_import(broker, config, file)
    assert r.returncode == 1, "rows were rejected"
    assert "登记人" in r.stderr, "the columns not imported are named"
    assert count(r.stdout, "新受理") == 6 and count(r.stdout, "已存在") == 2 and count(r.stdout, "退回") == 3, r.stdout
    with Path(str(file) + ".rejected.csv").open(encoding="utf-8-sig", newline="") as f:
        report = list(csv.reader(f))
    assert report[0] == ["行号", "信访件编号", "字段", "列名", "原因"], report[0]
    assert [(int(x[0]), x[1], x[2], x[3]) for x in report[1:]] == [
        (4, "XF-IMP-003", "channel", "信访形式"), (7, "XF-IMP-006", "grid", "网格"), (9, "XF-IMP-008", "content", "信访事项")], report
    assert "zz/atlantis" in report[2][4], "the broker's reason, not its code"
    good = [f"XF-IMP-{i:03d}" for i in range(1, 11) if i + 1 not in BAD]
    for no in good:
        got = petitions(broker, no)
        assert len(got) == 1 and got[0][1] == "petition" and json.loads(got[0][2])["state"] == "forwarded", (no, got)
    assert petitions(broker, "XF-IMP-002")[0][0] == live, "the live registration is the same petition"
    for no in ("XF-IMP-003", "XF-IMP-006", "XF-IMP-008"):
        assert petitions(broker, no) == [], no
    # What the office's system reads back of an imported row is its registration.
    status, answer = call(listen, "GET", "/v1/petitions/XF-IMP-004")
    assert status == 201 and answer["petition"]["state"] == "forwarded", answer

    # The office corrects the three rows; the next run sends those and nothing else.
    for row, (field, _) in BAD.items():
        body[row - 2][{"channel": 2, "grid": 5, "content": 3}[field]] = register(1)[0][{"channel": 2, "grid": 5, "content": 3}[field]]
    write_csv(file, HEADER, body)
    r = run_import(broker, config, file)
    assert r.returncode == 0, r.stderr
    assert count(r.stdout, "新受理") == 3 and count(r.stdout, "退回") == 0, r.stdout
    assert "跳过 8 行" in r.stdout, r.stdout
    assert not Path(str(file) + ".rejected.csv").exists(), "nothing rejected: no report left behind"
    for i in range(1, 11):
        assert len(petitions(broker, f"XF-IMP-{i:03d}")) == 1, i

    # --restart asks for every row again: all there, none doubled.
    r = run_import(broker, config, file, "--restart")
    assert r.returncode == 0 and count(r.stdout, "新受理") == 0 and count(r.stdout, "已存在") == 11, r.stdout
    assert broker.query("SELECT count(*) FROM cases WHERE external_ref LIKE 'XF-IMP-%'")[0][0] == 10


def test_an_anonymous_row_and_a_hotline_config_are_told_apart(make_broker, processes, tmp_path):
    """A row naming nobody is registered anonymous (no identity on the bus at all); pointing the
    petition import at another plugin's config is a config error (exit 2) and sends nothing."""
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = petition_adapter(broker, listen)
    processes.append(start_adapter(broker, config, 1, listen))
    row = register(1)[0]
    row[0], row[8], row[9], row[10] = "XF-ANON-1", "", "", ""
    file = write_csv(tmp_path / "anon.csv", HEADER, [row])
    r = run_import(broker, config, file)
    assert r.returncode == 0 and count(r.stdout, "新受理") == 1, r.stdout
    submitted = bytes(broker.query("SELECT e.submitted FROM cases c JOIN events e ON e.case_id = c.case_id AND e.type = 'case.accepted' WHERE c.external_ref = 'XF-ANON-1'")[0][0]).decode()
    assert json.loads(submitted)["reporter"] == {"anonymous": True}, submitted

    other = config.with_name("not-petition.yaml")
    other.write_text(config.read_text(encoding="utf-8").replace("plugin: petition", "plugin: hotline12345"), encoding="utf-8")
    r = run_import(broker, other, file, "--restart")
    assert r.returncode == 2 and "needs the config of a petition adapter" in r.stderr, r.stderr
