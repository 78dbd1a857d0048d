"""`muster import hotline FILE` (issue 13 item 1, the batch import), black-box: the real broker, the
real hotline adapter (`plugin: hotline12345`), and the CLI importing a day's export of the 12345
platform through the adapter's intake API. Good rows become cases (one per 工单编号), bad rows —
unreadable ones and those the API answers 422 — are listed in FILE.rejected.csv with their row
numbers, a rerun sends nothing new (the state file), --restart goes through every row again and
still leaves one case per 工单编号. GB18030 CSV and .xlsx exports read the same.
Plugins/Hotline/README.md ("Import") is the contract."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import zipfile
from pathlib import Path

from conftest import MUSTER_BIN, free_port
from test_hotline_intake import call, cases, hotline_adapter, order, start_adapter

HEADER = ["工单编号", "来电时间", "诉求类型", "诉求内容", "地址", "网格", "类别", "联系人", "联系电话", "是否匿名", "是否回访", "承办单位"]
BAD = {7: ("content", ""), 12: ("called_at", "2026/12/02 9:15"), 20: ("grid", "zz/atlantis"), 25: ("callback", "也许")}


def rows(n: int = 30, prefix: str = "GD-IMP") -> list[list[str]]:
    """n rows (row numbers 2..n+1), each at its own address so that none merges into another;
    the rows of BAD (by row number) carry a fault."""
    out = []
    for i in range(1, n + 1):
        r = [f"{prefix}-{i:03d}", f"2026-12-02 09:{i:02d}:00", "投诉", f"解放路{i}号门前有人摆摊占道，第{i}次反映",
             f"二七区解放路{i}号", "zz/erqi/jiefanglu", "street_vending", "王女士", "13800001111", "否", "是", "城管局"]
        fault = BAD.get(i + 1)
        if fault:
            r[{"content": 3, "called_at": 1, "grid": 5, "callback": 10}[fault[0]]] = fault[1]
        out.append(r)
    return out


def write_csv(path: Path, header: list[str], body: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows([header] + body)
    return path


def run_import(broker, config: Path, file: Path, *args: str, kind: str = "hotline") -> subprocess.CompletedProcess:
    """`muster import KIND FILE --config CONFIG ARGS…` in the broker's folder (hotline or petition)."""
    r = subprocess.run([str(MUSTER_BIN), "import", kind, str(file), "--config", str(config), *args],
                       capture_output=True, text=True, timeout=120, cwd=broker.workdir)
    print(r.stdout, r.stderr)
    return r


def count(stdout: str, label: str) -> int:
    """A count of the summary: `  新受理 taken:          25`."""
    m = re.search(rf"^\s*{label}[^:\n]*:\s*(\d+)", stdout, re.M)
    assert m, f"no {label} in {stdout}"
    return int(m.group(1))


def rejected(file: Path) -> list[tuple[int, str, str, str]]:
    with Path(str(file) + ".rejected.csv").open(encoding="utf-8-sig", newline="") as f:
        got = list(csv.reader(f))
    assert got[0] == ["行号", "工单编号", "字段", "列名", "原因"], got[0]
    assert all(r[4] for r in got[1:]), "every row says why"
    return [(int(r[0]), r[1], r[2], r[3]) for r in got[1:]]


def one_case_each(broker, numbers: list[str]) -> None:
    for no in numbers:
        got = cases(broker, no)
        assert len(got) == 1 and got[0][1] == "hotline_12345", (no, got)


def test_a_days_csv_is_imported_bad_rows_reported_and_a_rerun_sends_nothing_new(make_broker, processes):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = hotline_adapter(broker, listen)
    processes.append(start_adapter(broker, config, 1, listen))
    # One order of the day the platform had already pushed live.
    assert call(listen, "POST", "/v1/workorders", order("GD-IMP-003", address="二七区解放路3号"))[0] == 201
    live = cases(broker, "GD-IMP-003")[0][0]

    day = write_csv(broker.workdir / "day.csv", HEADER, rows())
    r = run_import(broker, config, day, "--client", "platform")
    assert r.returncode == 1, "rows were rejected"
    assert (count(r.stdout, "新受理"), count(r.stdout, "已存在"), count(r.stdout, "排队"), count(r.stdout, "退回")) == (25, 1, 0, 4)
    assert "承办单位" in r.stderr, "the columns not imported are named"
    good = [row[0] for i, row in enumerate(rows(), start=2) if i not in BAD]
    one_case_each(broker, good)
    assert cases(broker, "GD-IMP-003")[0][0] == live, "the live order is the same case"
    submitted = json.loads(broker.query("SELECT e.submitted FROM cases c JOIN events e ON e.case_id = c.case_id AND e.type = 'case.accepted' WHERE c.external_ref = 'GD-IMP-010'")[0][0])
    assert submitted["reported_at"] == "2026-12-02T09:10:00+08:00" and submitted["hotline"] == {"kind": "投诉", "callback": True}
    for i in BAD:
        assert cases(broker, f"GD-IMP-{i - 1:03d}") == [], f"row {i} made no case"
    assert rejected(day) == [(7, "GD-IMP-006", "content", "诉求内容"), (12, "GD-IMP-011", "called_at", "来电时间"),
                             (20, "GD-IMP-019", "grid", "网格"), (25, "GD-IMP-024", "callback", "是否回访")]
    state = json.loads(Path(str(day) + ".import-state.json").read_text(encoding="utf-8"))
    assert sorted(int(k) for k in state["rows"]) == [i for i in range(2, 32) if i not in BAD]
    total = broker.query("SELECT count(*) FROM cases")[0][0]

    again = run_import(broker, config, day)
    assert again.returncode == 1 and "跳过 26 行" in again.stdout
    assert (count(again.stdout, "新受理"), count(again.stdout, "已存在"), count(again.stdout, "退回")) == (0, 0, 4)
    assert broker.query("SELECT count(*) FROM cases")[0][0] == total, "nothing new"

    # The bad rows corrected: only they go, and the report is gone.
    write_csv(day, HEADER, rows_fixed())
    fixed = run_import(broker, config, day)
    assert fixed.returncode == 0, fixed.stderr
    assert count(fixed.stdout, "新受理") == 4 and not Path(str(day) + ".rejected.csv").exists()

    restart = run_import(broker, config, day, "--restart")
    assert restart.returncode == 0 and "跳过" not in restart.stdout
    assert (count(restart.stdout, "新受理"), count(restart.stdout, "已存在")) == (0, 30), "every row asked for again: all there"
    one_case_each(broker, [row[0] for row in rows()])
    assert broker.query("SELECT count(*) FROM cases")[0][0] == total + 4


def rows_fixed() -> list[list[str]]:
    out = rows()
    for r in out:
        r[1], r[3], r[5], r[10] = f"2026-12-02 09:{int(r[0][-3:]):02d}:00", r[3] or "补录：摊贩占道", "zz/erqi/jiefanglu", "是"
    return out


def xlsx(path: Path, header: list[str], body: list[list[object]]) -> Path:
    """A workbook as Excel writes one, reduced: header in shared strings, the rows' text inline,
    numbers (an Excel date serial) as numbers."""
    strings = header
    def cell(ref: str, v: object) -> str:
        if isinstance(v, (int, float)):
            return f'<c r="{ref}" s="1"><v>{v!r}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>'
    cols = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    sheet = [f'<row r="1">' + "".join(f'<c r="{cols[j]}1" t="s"><v>{j}</v></c>' for j in range(len(header))) + "</row>"]
    for i, r in enumerate(body, start=2):
        sheet.append(f'<row r="{i}">' + "".join(cell(f"{cols[j]}{i}", v) for j, v in enumerate(r)) + "</row>")
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="xml" ContentType="application/xml"/></Types>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="工单" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}">'
                   + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>")
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>'
                   + "".join(sheet) + "</sheetData></worksheet>")
    return path


def test_gb18030_csv_with_its_own_columns_and_an_xlsx_import_alike(make_broker, processes):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = hotline_adapter(broker, listen)
    # This platform's export names the complaint 问题描述 and writes times its own way.
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("curve:\n", "  import:\n    columns: {content: 问题描述}\n    time_format: \"yyyy/M/d H:mm\"\ncurve:\n", 1), encoding="utf-8")
    processes.append(start_adapter(broker, config, 1, listen))

    header = ["工单编号", "来电时间", "诉求类型", "问题描述", "地址", "网格", "是否回访"]
    body = [[f"GD-GB-{i}", f"2026/12/2 10:{i:02d}", "求助", f"民主路{i}号院暖气不热，家里只有十五度", f"民主路{i}号院", "zz/erqi/jiefanglu/minzhulu", "否"]
            for i in range(1, 6)]
    gb = write_csv(broker.workdir / "day-gbk.csv", header, body, encoding="gb18030")
    raw = gb.read_bytes()
    try:
        raw.decode("utf-8")
        raise AssertionError("the test's file must not be UTF-8")
    except UnicodeDecodeError:
        pass
    r = run_import(broker, config, gb)
    assert r.returncode == 0, r.stderr
    assert "GB18030" in r.stdout and count(r.stdout, "新受理") == 5
    for i in range(1, 6):
        got = cases(broker, f"GD-GB-{i}")
        assert len(got) == 1 and got[0][4] == f"民主路{i}号院暖气不热，家里只有十五度", got
    submitted = json.loads(broker.query("SELECT e.submitted FROM cases c JOIN events e ON e.case_id = c.case_id AND e.type = 'case.accepted' WHERE c.external_ref = 'GD-GB-3'")[0][0])
    assert submitted["reported_at"] == "2026-12-02T10:03:00+08:00"

    # 46358.4375 is 2026-12-02 10:30 in Excel's days since 1899-12-30.
    book = xlsx(broker.workdir / "day.xlsx", header,
                [[f"GD-XL-{i}", 46358.4375, "投诉", f"德化街{i}号夜间施工噪音扰民", f"德化街{i}号", "zz/erqi/dehuajie", "否"] for i in range(1, 4)]
                + [["GD-XL-9", "2026-12-02", "投诉", "时间写错了", "德化街9号", "zz/erqi/dehuajie", "否"]])
    x = run_import(broker, config, book)
    assert x.returncode == 1 and "xlsx (工单)" in x.stdout and count(x.stdout, "新受理") == 3
    one_case_each(broker, ["GD-XL-1", "GD-XL-2", "GD-XL-3"])
    submitted = json.loads(broker.query("SELECT e.submitted FROM cases c JOIN events e ON e.case_id = c.case_id AND e.type = 'case.accepted' WHERE c.external_ref = 'GD-XL-2'")[0][0])
    assert submitted["reported_at"] == "2026-12-02T10:30:00+08:00"
    assert rejected(book) == [(5, "GD-XL-9", "called_at", "来电时间")]


def test_a_bad_header_a_bad_client_or_no_adapter_sends_nothing(make_broker):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = hotline_adapter(broker, listen)    # never started: nothing answers at listen
    before = broker.query("SELECT count(*) FROM cases")[0][0]

    no_content = write_csv(broker.workdir / "no-content.csv", [h for h in HEADER if h != "诉求内容"],
                           [r[:3] + r[4:] for r in rows(3)])
    r = run_import(broker, config, no_content)
    assert r.returncode == 65 and "诉求内容" in r.stderr and "no-content.csv" in r.stderr, r.stderr
    assert r.returncode == run_import(broker, config, no_content, "--dry-run").returncode

    day = write_csv(broker.workdir / "day.csv", HEADER, rows(3))
    assert run_import(broker, config, day, "--client", "nobody").returncode == 2
    assert run_import(broker, config, broker.workdir / "missing.csv").returncode == 66
    down = run_import(broker, config, day)
    assert down.returncode == 69 and listen in down.stderr, down.stderr
    dry = run_import(broker, config, day, "--dry-run")
    assert dry.returncode == 0 and count(dry.stdout, "可导入") == 3, "a dry run needs no adapter"
    assert not Path(str(day) + ".import-state.json").exists() and not Path(str(day) + ".rejected.csv").exists()
    assert broker.query("SELECT count(*) FROM cases")[0][0] == before


def test_a_kill9_of_the_adapter_during_an_import_loses_and_doubles_nothing(make_broker, processes, tmp_path):
    """The adapter dies (kill -9) while the import is sending: the CLI stops with its state saved
    (exit 69 or 74: no answer), the orders the adapter had queued reach the broker after it
    restarts, and the same command run again sends the rest — one case per 工单编号, none lost."""
    body = [[f"GD-K9-{i:03d}", f"2026-12-02 {9 + i // 60:02d}:{i % 60:02d}:00", "投诉", f"解放路{i}号门前有人摆摊占道",
             f"二七区解放路{i}号", "zz/erqi/jiefanglu", "street_vending", "王女士", "13800001111", "否", "是", "城管局"]
            for i in range(1, 301)]
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = hotline_adapter(broker, listen)
    first = start_adapter(broker, config, 1, listen)
    processes.append(first)
    file = write_csv(tmp_path / "day.csv", HEADER, body)
    importer = subprocess.Popen([str(MUSTER_BIN), "import", "hotline", str(file), "--config", str(config)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=broker.workdir)
    from conftest import wait_until
    wait_until(lambda: broker.query("SELECT count(*) FROM cases WHERE external_ref LIKE 'GD-K9-%'")[0][0] >= 40, 60,
               "the import under way")
    first.kill9()
    out, err = importer.communicate(timeout=120)
    print(out, err)
    assert importer.returncode in (69, 74), (importer.returncode, out, err)
    state = json.loads(Path(str(file) + ".import-state.json").read_text(encoding="utf-8"))
    assert state, "the rows done so far are kept"

    processes.append(start_adapter(broker, config, 2, listen))
    r = run_import(broker, config, file)
    assert r.returncode == 0, r.stderr
    numbers = [row[0] for row in body]
    wait_until(lambda: broker.query("SELECT count(*) FROM cases WHERE external_ref LIKE 'GD-K9-%'")[0][0] == 300, 60,
               "every order a case")
    one_case_each(broker, numbers)
    assert broker.query("SELECT count(DISTINCT external_ref), count(*) FROM cases WHERE external_ref LIKE 'GD-K9-%'")[0] == (300, 300)
