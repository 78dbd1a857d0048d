"""A live reload of the whole config (issue 11, item 4), black-box: the real broker runs; the test
edits its copied config (routing.yaml, grids.yaml, sla.yaml, peers.yaml) and runs `muster reload`
or sends SIGHUP itself. All of it is applied or, with any error, none; new cases follow the new
rules, cases already dispatched keep their owners, and a case waiting at the triage queue (研判)
whose category now has an owner is routed by the broker. The broker's verdict is DB.reload.json.

The brokers run with CURVE on, as shipped: `muster reload` checks the whole config, security
section included, so a new department's adapter gets a key (`muster keys gen`) and an entry in
the copied peers.yaml, reloaded with the rest. (Against an --insecure broker, `muster reload --insecure`
checks the config as that broker does, without its security section.)"""
from __future__ import annotations

import json
import os
import re
import signal
from datetime import datetime, timedelta
from pathlib import Path

import subprocess

from conftest import GRID, MUSTER_BIN, Peer, case_body, run_cli, verify_log, wait_until

# routing.yaml as shipped: 占道经营 led by 城管, with 公安 and 市场监管 assisting in the 二七塔
# dedicated grid (GRID, 解放路街道, is one of its members).
STREET_VENDING_SHIPPED = """  - code: street_vending
    name: 占道经营
    lead: chengguan
    keywords: [占道经营, 流动摊贩, 摆摊, 出店经营, 店外经营, 马路市场, 夜市占道]
    overrides:
      - grid: erqita                     # 二七塔商圈: crowded pedestrian area, police assist
        lead: chengguan
        assists: [gongan, shichang]
"""
# The new rule: 市场监管 leads street vending everywhere (no overrides left).
STREET_VENDING_TO_SHICHANG = """  - code: street_vending
    name: 占道经营
    lead: shichang
    keywords: [占道经营, 流动摊贩, 摆摊, 出店经营, 店外经营, 马路市场, 夜市占道]
"""
LAST_AGENCY = """  - code: shichang
    name: 市场监管 market regulation
    supervisor: 郑州市市场监督管理局
"""
YUANLIN_AGENCY = """  - code: yuanlin
    name: 园林绿化
    supervisor: 郑州市园林局
"""


def tree_pruning_category(lead: str) -> str:
    return f"""
  - code: tree_pruning
    name: 树木修剪
    lead: {lead}
    keywords: [树枝]
"""


# --------------------------------------------------------------------------------------------
# helpers


def cfg_file(broker, name: str) -> Path:
    return broker.config.parent / name


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: expected exactly one {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def new_routing(broker, *, tree_pruning_lead: str = "yuanlin") -> Path:
    """The copied routing.yaml gains 园林绿化 (yuanlin) and 树木修剪 (tree_pruning, led by
    `tree_pruning_lead`), and street vending moves to 市场监管."""
    routing = cfg_file(broker, "routing.yaml")
    replace_once(routing, LAST_AGENCY, LAST_AGENCY + YUANLIN_AGENCY)
    replace_once(routing, STREET_VENDING_SHIPPED, STREET_VENDING_TO_SHICHANG)
    with routing.open("a", encoding="utf-8") as f:
        f.write(tree_pruning_category(tree_pruning_lead))
    # 智能派单 learns a new category from examples, as the centre writes them (docs/CLASSIFIER.md).
    cfg_file(broker, "classifier/yuanlin.yaml").write_text(TREE_PRUNING_EXAMPLES, encoding="utf-8")
    return routing


TREE_PRUNING_EXAMPLES = """tree_pruning:
  - 行道树的树枝太长了，挡住了路灯
  - 树枝伸到我家窗户里了，请来修剪一下
  - 大风把树枝刮断了，挂在半空中很危险
  - 小区的树长得太高，树枝碰到电线了
  - 路边的树杈挡住了红绿灯，看不清
  - 树枝压着屋顶，下雨天刮得哗哗响
  - 请园林部门来修剪一下门口的树
  - 枯树枝随时会掉下来砸到行人
"""


def admit_adapter(broker, name: str, agency: str) -> None:
    """A key for a new agency adapter (`muster keys gen`) and its entry in the copied peers.yaml."""
    r = run_cli("keys", "gen", name, "--dir", str(broker.keys_dir), cwd=broker.workdir)
    assert r.returncode == 0, f"muster keys gen failed:\n{r.stdout}\n{r.stderr}"
    peers = cfg_file(broker, "peers.yaml")
    text = peers.read_text(encoding="utf-8")
    assert text.endswith("\n")
    peers.write_text(text + f"""  - name: {name}
    public_key_file: ../data/keys/{name}.pub
    adapters: [{name}]
    roles: [agency]
    agencies: [{agency}]
""", encoding="utf-8")


def muster_reload(broker):
    return run_cli("reload", "--config", str(broker.config), "--db", str(broker.db), cwd=broker.workdir)


def verdict_path(broker) -> Path:
    return Path(str(broker.db) + ".reload.json")


def verdict(broker) -> dict | None:
    """The broker's last reload verdict (DB.reload.json), or None before its first."""
    try:
        return json.loads(verdict_path(broker).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def broker_pid(broker) -> int:
    """The broker's pid, from DB.pid (written beside the database's lock) — and it must be the
    process the test started."""
    pid = int(Path(str(broker.db) + ".pid").read_text(encoding="ascii").split()[0])
    assert pid == broker.child.proc.pid, f"DB.pid names {pid}, the broker is {broker.child.proc.pid}"
    return pid


def agency_peer(broker, zmq_ctx, agency: str) -> Peer:
    name = f"{agency}-sim-1"
    p = Peer(broker.endpoint, name, ["agency"], agency=agency, ctx=zmq_ctx, curve=broker.curve(name),
             auto_received=True)
    p.hello()
    return p


def office_peer(broker, zmq_ctx) -> Peer:
    """The centre's desk (the operator's key): intake, monitor and ops."""
    p = Peer(broker.endpoint, "cli-reload", ["intake", "monitor", "ops"], ctx=zmq_ctx, curve=broker.curve("operator"))
    p.hello()
    return p


def submit(office: Peer, title: str, ref: str, category: str, state: str):
    r = office.request("SUBMIT", {"case": case_body(title, ref, category=category)})
    assert r.command == "ACCEPTED", r
    assert r["state"] == state, r
    return r


def query_case(office: Peer, case_id: str):
    q = office.request("QUERY", {"what": "case", "case_id": case_id})
    assert q.command == "RESULT", q
    return q


def lead_of(office: Peer, case_id: str) -> tuple[str | None, list[str], str]:
    """(lead, assists, state) of a case, as QUERY case shows them."""
    c = query_case(office, case_id)["case"]
    return c.get("lead"), sorted(c.get("assists", [])), c["state"]


def lead_dispatch_for(case_id: str):
    return lambda m: m["case"]["case_id"] == case_id and m["role"] == "lead"


def line_of(path: Path, prefix: str) -> int:
    """The 1-based number of the only line of `path` starting with `prefix`."""
    found = [i for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if ln.startswith(prefix)]
    assert len(found) == 1, f"{path.name}: {len(found)} lines start with {prefix!r}"
    return found[0]


def category_index(routing_lines: list[str], code: str) -> int:
    """The index of category `code` in routing.yaml's `categories:` list (for its error's key)."""
    start = routing_lines.index("categories:")
    codes = [ln.split(":", 1)[1].strip() for ln in routing_lines[start:] if ln.startswith("  - code:")]
    return codes.index(code)


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s)


# --------------------------------------------------------------------------------------------
# 1. a department added at run time


def test_a_department_added_while_the_broker_runs_is_routed_to_with_the_case_that_waited(make_broker, zmq_ctx):
    broker = make_broker(secure=True)
    cg = agency_peer(broker, zmq_ctx, "chengguan")
    sc = agency_peer(broker, zmq_ctx, "shichang")
    office = office_peer(broker, zmq_ctx)

    # A category routing.yaml does not know: accepted, kept, waiting at the triage queue.
    waiting = submit(office, "行道树树枝断裂悬挂在人行道上方", "RL-1-TREE", "tree_pruning", "triage")
    c = query_case(office, waiting["case_id"])["case"]
    assert c["category"] == "tree_pruning" and c["state"] == "triage" and not c.get("lead"), c
    # Street vending in the 二七塔 grid: 城管 leads (公安 and 市场监管 assist).
    before = submit(office, "人行道流动摊贩占道经营", "RL-1-SV-1", "street_vending", "dispatched")
    d = cg.expect_push("DISPATCH", 10, where=lead_dispatch_for(before["case_id"]))
    assert lead_of(office, before["case_id"]) == ("chengguan", ["gongan", "shichang"], "dispatched")

    # 园林绿化 joins: its category, its adapter's key; street vending moves to 市场监管.
    new_routing(broker)
    admit_adapter(broker, "yuanlin-sim-1", "yuanlin")
    r = muster_reload(broker)
    assert r.returncode == 0, f"muster reload failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    assert f"sent SIGHUP to broker pid {broker_pid(broker)}" in r.stdout, r.stdout
    assert f"broker pid {broker_pid(broker)} applied it" in r.stdout, r.stdout
    assert "1 waiting case(s) routed" in r.stdout, r.stdout
    v = verdict(broker)
    assert v is not None and v["ok"] is True and v["applied"] is True and v["errors"] == [], v
    assert v["routed_from_triage"] == 1 and v["reload"] == 1, v

    # The new department connects (its key admitted by the reload) and finds the waiting case.
    yl = agency_peer(broker, zmq_ctx, "yuanlin")
    got = yl.expect_push("DISPATCH", 10, where=lead_dispatch_for(waiting["case_id"]))
    assert got["case"]["category"] == "tree_pruning", got
    q = query_case(office, waiting["case_id"])
    assert q["case"]["state"] == "dispatched" and q["case"]["lead"] == "yuanlin", q["case"]
    assert [(x["agency"], x["role"]) for x in q["dispatches"]] == [("yuanlin", "lead")], q["dispatches"]
    routed = [e for e in q["timeline"] if e["type"] == "case.dispatched"]
    assert len(routed) == 1 and routed[0]["actor"] == "broker", routed
    assert routed[0]["data"]["dispatch"]["agency"] == "yuanlin", routed[0]
    assert routed[0]["data"]["dispatch"]["dispatch_id"] == got["dispatch_id"], (routed[0], got)

    # Dispatched before: keeps its owners. New: follows the new rule (市场监管, no assists now).
    assert lead_of(office, before["case_id"]) == ("chengguan", ["gongan", "shichang"], "dispatched")
    after = submit(office, "店外经营占用人行道", "RL-1-SV-2", "street_vending", "dispatched")
    sc.expect_push("DISPATCH", 10, where=lead_dispatch_for(after["case_id"]))
    assert lead_of(office, after["case_id"]) == ("shichang", [], "dispatched")
    assert [(x["agency"], x["role"]) for x in query_case(office, after["case_id"])["dispatches"]] == [("shichang", "lead")]
    assert [x["dispatch_id"] for x in query_case(office, before["case_id"])["dispatches"] if x["role"] == "lead"] == [d["dispatch_id"]]

    # A report the classifier now gives the new category (its examples) goes to 园林绿化 at once.
    r = office.request("SUBMIT", {"case": case_body("小区门口树枝压在电线上", "RL-1-TREE-2", category=None)})
    assert r.command == "ACCEPTED" and r["state"] == "dispatched", r
    yl.expect_push("DISPATCH", 10, where=lead_dispatch_for(r["case_id"]))
    assert query_case(office, r["case_id"])["case"]["category"] == "tree_pruning"

    for p in (office, cg, sc, yl):
        p.close()
    broker.stop()
    v = verify_log(broker.db)
    assert v.returncode == 0, f"replay != projections after the reload:\n{v.stdout}\n{v.stderr}"


# --------------------------------------------------------------------------------------------
# 2. all or none


def test_a_bad_reload_changes_nothing(make_broker, zmq_ctx):
    broker = make_broker(secure=True)
    cg = agency_peer(broker, zmq_ctx, "chengguan")
    office = office_peer(broker, zmq_ctx)
    pid = broker_pid(broker)
    waiting = submit(office, "行道树树枝遮挡路灯", "RL-2-TREE-1", "tree_pruning", "triage")

    # A broken routing.yaml: the new department is there, street vending moves to 市场监管 (both
    # valid), but 树木修剪's lead is misspelt.
    routing = new_routing(broker, tree_pruning_lead="yuanlim")
    lines = routing.read_text(encoding="utf-8").splitlines()
    bad_line = lines.index("    lead: yuanlim") + 1
    bad_key = f"categories[{category_index(lines, 'tree_pruning')}].lead"
    r = muster_reload(broker)
    out = r.stdout + r.stderr
    assert r.returncode != 0, f"muster reload accepted a broken routing.yaml:\n{out}"
    assert re.search(rf"routing\.yaml:{bad_line}: {re.escape(bad_key)}: .*yuanlim", out), out
    assert "sent SIGHUP" not in out and "applied" not in r.stdout, out
    assert verdict(broker) is None, "the broker was signalled although the CLI found errors"

    # The operator signals it anyway: the broker finds the same error and applies nothing.
    os.kill(pid, signal.SIGHUP)
    v = wait_until(lambda: verdict(broker), 10, "the broker's verdict in DB.reload.json")
    assert v["pid"] == pid and v["reload"] == 1, v   # the first signal it got: the CLI sent none
    assert v["ok"] is False and v["applied"] is False and v["routed_from_triage"] == 0, v
    assert len(v["errors"]) == 1 and re.search(rf"routing\.yaml:{bad_line}: {re.escape(bad_key)}: .*yuanlim", v["errors"][0]), v["errors"]
    assert "keys" not in v, v
    assert "config not reloaded" in broker.stderr_tail(200)

    # Old rules, all of them: street vending still goes to 城管 with the 二七塔 assists (the
    # valid half of the file was not taken either), tree pruning still has no owner.
    old = submit(office, "夜市占道经营", "RL-2-SV-1", "street_vending", "dispatched")
    cg.expect_push("DISPATCH", 10, where=lead_dispatch_for(old["case_id"]))
    assert lead_of(office, old["case_id"]) == ("chengguan", ["gongan", "shichang"], "dispatched")
    waiting2 = submit(office, "树枝伸进居民阳台", "RL-2-TREE-2", "tree_pruning", "triage")
    assert lead_of(office, waiting["case_id"]) == (None, [], "triage")
    unclassified = office.request("SUBMIT", {"case": case_body("小区树枝挡住窗户", "RL-2-KW", category=None)})
    assert unclassified.command == "ACCEPTED" and unclassified["state"] == "triage", unclassified   # no 树枝 keyword yet
    assert query_case(office, unclassified["case_id"])["case"]["category"] == "unclassified"

    # routing.yaml mended, but sla.yaml broken now: all or none across files, so the good
    # routing is not taken either.
    replace_once(routing, "    lead: yuanlim", "    lead: yuanlin")
    sla = cfg_file(broker, "sla.yaml")
    replace_once(sla, "  ack_within: 1h              # 签收", "  ack_within: soon            # 签收")
    sla_line = line_of(sla, "  ack_within: soon")
    r = muster_reload(broker)
    assert r.returncode != 0 and re.search(rf"sla\.yaml:{sla_line}: defaults\.ack_within: ", r.stdout + r.stderr), r
    assert "routing.yaml" not in r.stdout + r.stderr, r   # the mended file is no longer reported
    os.kill(pid, signal.SIGHUP)
    v = wait_until(lambda: (x := verdict(broker)) and x["reload"] >= 2 and x, 10, "the broker's second verdict")
    assert v["reload"] == 2 and v["ok"] is False and v["applied"] is False and v["routed_from_triage"] == 0, v
    assert any(re.search(rf"sla\.yaml:{sla_line}: defaults\.ack_within: ", e) for e in v["errors"]), v["errors"]
    assert all("sla.yaml:" in e for e in v["errors"]), v["errors"]
    assert lead_of(office, waiting["case_id"]) == (None, [], "triage")
    still = submit(office, "摆摊占道", "RL-2-SV-3", "street_vending", "dispatched")
    assert lead_of(office, still["case_id"]) == ("chengguan", ["gongan", "shichang"], "dispatched")

    # All mended: applied, the two tree-pruning cases that waited are routed to 园林绿化.
    replace_once(sla, "  ack_within: soon            # 签收", "  ack_within: 1h              # 签收")
    r = muster_reload(broker)
    assert r.returncode == 0, f"muster reload failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    assert f"broker pid {pid} applied it" in r.stdout and "2 waiting case(s) routed" in r.stdout, r.stdout
    v = verdict(broker)
    assert v["reload"] == 3 and v["ok"] is True and v["applied"] is True and v["routed_from_triage"] == 2, v
    for c in (waiting, waiting2):
        assert lead_of(office, c["case_id"]) == ("yuanlin", [], "dispatched")
    # The unclassified one stays where it is: its category is "unclassified", not tree_pruning.
    assert lead_of(office, unclassified["case_id"]) == (None, [], "triage")
    new = submit(office, "马路市场占道经营", "RL-2-SV-2", "street_vending", "dispatched")
    assert lead_of(office, new["case_id"]) == ("shichang", [], "dispatched")
    assert lead_of(office, old["case_id"]) == ("chengguan", ["gongan", "shichang"], "dispatched")

    office.close()
    cg.close()
    broker.stop()
    v = verify_log(broker.db)
    assert v.returncode == 0, f"{v.stdout}\n{v.stderr}"


# --------------------------------------------------------------------------------------------
# 3. grids and sla


def test_sighup_applies_a_grid_and_sla_change(make_broker, zmq_ctx):
    broker = make_broker(secure=True)
    cg = agency_peer(broker, zmq_ctx, "chengguan")
    office = office_peer(broker, zmq_ctx)
    pid = broker_pid(broker)

    old = submit(office, "出店经营摆放货架", "RL-3-SV-1", "street_vending", "dispatched")
    d_old = cg.expect_push("DISPATCH", 10, where=lead_dispatch_for(old["case_id"]))
    assert lead_of(office, old["case_id"]) == ("chengguan", ["gongan", "shichang"], "dispatched")
    old_lead = next(x for x in query_case(office, old["case_id"])["dispatches"] if x["role"] == "lead")
    assert ts(old_lead["ack_by"]) - ts(old_lead["sent_at"]) == timedelta(hours=1), old_lead   # defaults.ack_within

    # 解放路街道 leaves the 二七塔 dedicated grid (so its override no longer applies there), and
    # 签收 gets 3 h by default.
    replace_once(cfg_file(broker, "grids.yaml"), "      - zz/erqi/jiefanglu       # 二七区 解放路街道\n", "")
    replace_once(cfg_file(broker, "sla.yaml"), "  ack_within: 1h              # 签收", "  ack_within: 3h              # 签收")
    os.kill(pid, signal.SIGHUP)
    v = wait_until(lambda: (x := verdict(broker)) and x.get("reload", 0) >= 1 and x, 10, "the broker's verdict")
    assert v["reload"] == 1 and v["ok"] is True and v["applied"] is True, v

    new = submit(office, "人行道摆摊设点", "RL-3-SV-2", "street_vending", "dispatched")
    d_new = cg.expect_push("DISPATCH", 10, where=lead_dispatch_for(new["case_id"]))
    assert lead_of(office, new["case_id"]) == ("chengguan", [], "dispatched")
    new_lead = next(x for x in query_case(office, new["case_id"])["dispatches"] if x["role"] == "lead")
    assert ts(new_lead["ack_by"]) - ts(new_lead["sent_at"]) == timedelta(hours=3), new_lead
    assert ts(d_new["due"]["ack_by"]) == ts(new_lead["ack_by"]), d_new["due"]

    # The case dispatched before keeps its owners and its deadlines.
    assert lead_of(office, old["case_id"]) == ("chengguan", ["gongan", "shichang"], "dispatched")
    again = next(x for x in query_case(office, old["case_id"])["dispatches"] if x["role"] == "lead")
    assert again["ack_by"] == old_lead["ack_by"] == d_old["due"]["ack_by"], (again, old_lead, d_old["due"])

    office.close()
    cg.close()
    broker.stop()
    v = verify_log(broker.db)
    assert v.returncode == 0, f"{v.stdout}\n{v.stderr}"


def test_the_five_minute_path_agency_add_then_reload(make_broker, zmq_ctx):
    """OPERATIONS.md's "add a department": `muster agency add` writes the adapter file, the key
    and the peers.yaml entry; the routing lines it prints are added; `muster reload`; the new
    department's adapter process connects and takes the case that waited for it."""
    broker = make_broker(secure=True)
    office = office_peer(broker, zmq_ctx)
    waiting = submit(office, "小区绿化带树枝遮挡路灯", "RL-4-TREE", "tree_pruning", "triage")

    r = run_cli("agency", "add", "yuanlin", "--name", "园林绿化", "--config", str(broker.config),
                "--keys", str(broker.keys_dir), cwd=broker.workdir)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    adapter_file = cfg_file(broker, "adapters/yuanlin.yaml")
    assert adapter_file.exists() and "agency: yuanlin" in adapter_file.read_text(encoding="utf-8")
    assert "adapters: [yuanlin-1]" in cfg_file(broker, "peers.yaml").read_text(encoding="utf-8")
    assert "lead: yuanlin" in r.stdout and "muster reload" in r.stdout, r.stdout
    assert run_cli("agency", "add", "yuanlin", "--name", "园林绿化", "--config", str(broker.config),
                   "--keys", str(broker.keys_dir), cwd=broker.workdir).returncode != 0, "a second add is refused"

    # Before routing.yaml knows it, the whole config is refused and nothing is sent.
    early = muster_reload(broker)
    assert early.returncode == 2 and "yuanlin" in early.stderr, early
    assert verdict(broker) is None

    routing = cfg_file(broker, "routing.yaml")
    replace_once(routing, LAST_AGENCY, LAST_AGENCY + YUANLIN_AGENCY)
    with routing.open("a", encoding="utf-8") as f:
        f.write(tree_pruning_category("yuanlin"))
    ok = muster_reload(broker)
    assert ok.returncode == 0 and "1 waiting case(s) routed" in ok.stdout, ok

    # The adapter as `make run` would start it, from the file agency add wrote.
    text = adapter_file.read_text(encoding="utf-8").replace("tcp://127.0.0.1:7400", broker.endpoint)
    adapter_file.write_text(text, encoding="utf-8")
    child = subprocess.Popen([str(MUSTER_BIN), "adapter", "--config", str(adapter_file)], cwd=broker.workdir,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # The simulated 园林绿化 signs for and finishes the case that waited.
        wait_until(lambda: query_case(office, waiting["case_id"])["case"]["state"] == "finished", 20,
                   "the new department finishes the case that waited")
        assert lead_of(office, waiting["case_id"])[0] == "yuanlin"
    finally:
        child.terminate()
        child.wait(timeout=10)
    v = verify_log(broker.db)
    assert v.returncode == 0, v.stdout + v.stderr
