"""The dispatcher's corrections (issue 13 item 2: "a dispatcher's correction (re-triage) is logged so
the centre can add it to the examples"), black-box: a report the classifier leaves to triage with
its suggestions, and one it routes that the department returns, are routed by hand (ASSIGN);
`muster corrections` lists both as labelled lines of the `muster classify --eval` format, with
what the classifier had thought, for the centre to check and add to config/classifier."""
from __future__ import annotations

from conftest import run_cli
from test_cli import case_json, ok, submit


def test_the_centres_routing_by_hand_is_listed_as_candidate_examples(make_broker):
    broker = make_broker(secure=True)
    noise = submit(broker, "楼下广场舞音响声音太大", "COR-1")
    assert noise["state"] == "triage", noise
    ok(broker.cli("assign", noise["case_id"], "--lead", "城管", "--note", "社会生活噪声，城管牵头"), "muster assign")
    routed = submit(broker, "解放路上有人摆摊卖水果占了人行道", "COR-2")
    assert routed["state"] == "dispatched", routed
    ok(broker.cli("assign", routed["case_id"], "--lead", "gongan", "--note", "涉及治安"), "muster assign")

    r = run_cli("corrections", "--config", str(broker.config), "--db", str(broker.db), cwd=broker.workdir)
    out = ok(r, "muster corrections")
    lines = out.splitlines()
    assert lines[0].startswith("# 2 correction(s)"), out
    first = next(i for i, line in enumerate(lines) if line.startswith(f"# {noise['case_id']} "))
    assert "→ chengguan (suggested " in lines[first] and "：社会生活噪声，城管牵头" in lines[first], lines[first]
    category, text = lines[first + 1].split("\t")
    assert text == "楼下广场舞音响声音太大"
    assert case_json(broker, noise["case_id"])["case"]["lead"] == "chengguan"
    second = next(i for i, line in enumerate(lines) if line.startswith(f"# {routed['case_id']} "))
    assert "→ gongan (routed as street_vending)" in lines[second], lines[second]
    import yaml
    routing = yaml.safe_load((broker.config.parent / "routing.yaml").read_text(encoding="utf-8"))
    led = {c["code"] for c in routing["categories"] if c["lead"] == "gongan"}
    assert lines[second + 1].split("\t")[0] in led, "labelled with a category the chosen department leads"
    # Only from a day on: none before today's, both from it.
    assert run_cli("corrections", "--config", str(broker.config), "--db", str(broker.db), "--since", "2099-01-01",
                   cwd=broker.workdir).stdout.startswith("# 0 correction(s)")
