"""智能派单: free text to the right department, measured and end to end.

`muster classify --eval` on the held-out file (texts never used in training), and a real broker:
a SUBMIT without a category is routed by the classifier, or waits in triage with the
classifier's three suggestions in its case.triage event — never sent to a guessed department.
"""
from __future__ import annotations

import json
import re

from conftest import CONFIG_DIR, INTEGRATION_DIR, case_body, run_cli, wait_until

HELDOUT = INTEGRATION_DIR / "data" / "classify-heldout.tsv"
OUT_OF_SCOPE = INTEGRATION_DIR / "data" / "classify-outofscope.tsv"
# The second and third pairs, each written on 2026-12-03 by a hand that never saw the examples
# or the earlier pairs (docs/CLASSIFIER.md). The third is the clean one: measured once at the
# threshold cross-validation had already chosen.
HELDOUT_2 = INTEGRATION_DIR / "data" / "classify-heldout-2.tsv"
OUT_OF_SCOPE_2 = INTEGRATION_DIR / "data" / "classify-outofscope-2.tsv"
HELDOUT_3 = INTEGRATION_DIR / "data" / "classify-heldout-3.tsv"
OUT_OF_SCOPE_3 = INTEGRATION_DIR / "data" / "classify-outofscope-3.tsv"
CONFIG = str(CONFIG_DIR / "muster.yaml")


def figures(path=HELDOUT) -> dict[str, float]:
    r = run_cli("classify", "--config", CONFIG, "--eval", str(path), timeout=120)
    assert r.returncode == 0, r.stderr
    out = {}
    for key, label in (("total", "texts"), ("right", "right department"), ("wrong", "wrong department"), ("triage", "to triage")):
        if key == "total":
            m = re.search(r"^texts: (\d+)", r.stdout, re.M)
            out[key] = float(m.group(1))
        else:
            m = re.search(rf"^{label} \(\S+\): (\d+)/(\d+) = ([\d.]+) %$", r.stdout, re.M)
            assert m, r.stdout
            out[key] = float(m.group(3))
    out["stdout"] = r.stdout
    return out


def test_heldout_complaints_reach_the_right_department_and_almost_never_a_wrong_one():
    f = figures()
    assert f["total"] >= 150, f["stdout"]
    assert abs(f["right"] + f["wrong"] + f["triage"] - 100) < 0.2, f["stdout"]
    assert f["wrong"] <= 2.0, f["stdout"]          # never silently to a wrong department
    # The measured figure with the keyword overrides and the logistic regression at the shipped
    # threshold 0.55, 2,245 training texts: 96.3 % (docs/CLASSIFIER.md; this file is not clean).
    assert f["right"] >= 96.0, f["stdout"]
    # the issue's own examples
    for text, want in (("摆地摊", "street_vending"), ("路面突然塌陷", "road_collapse"), ("井盖丢了", "manhole_cover")):
        r = run_cli("classify", "--config", CONFIG, text)
        assert r.returncode == 0 and f"→ 派单 dispatched as {want}" in r.stdout, r.stdout


def out_of_scope(path) -> tuple[float, str]:
    r = run_cli("classify", "--config", CONFIG, "--eval", str(path), timeout=120)
    m = re.search(r"^out of scope to triage \(\S+\): (\d+)/(\d+) = ([\d.]+) %$", r.stdout, re.M)
    assert r.returncode == 0 and m, r.stdout
    return float(m.group(3)), r.stdout


def test_the_second_heldout_set_reaches_the_right_department_and_almost_never_a_wrong_one():
    f = figures(HELDOUT_2)
    assert f["total"] == 240, f["stdout"]
    # measured at 0.65 (93.8 % right, 0.8 % wrong), then at 0.55: 95.0 % right, 1.7 % wrong
    assert f["right"] >= 95.0 and f["wrong"] <= 2.0, f["stdout"]
    share, out = out_of_scope(OUT_OF_SCOPE_2)
    assert share >= 95.0, out                      # measured: 96.7 %


def test_heldout_meets_the_issue_target():
    """Issue 13's targets on the clean third set: ≥ 95 % to the right department, ≤ 2 % to a
    wrong one (measured: 96.0 % and 1.5 %), and texts of no category to triage (98.0 %)."""
    f = figures(HELDOUT_3)
    assert f["total"] == 200, f["stdout"]
    assert f["right"] >= 95.0 and f["wrong"] <= 2.0, f["stdout"]
    share, out = out_of_scope(OUT_OF_SCOPE_3)
    assert share >= 95.0, out


def out_of_scope_share() -> tuple[float, str]:
    r = run_cli("classify", "--config", CONFIG, "--eval", str(OUT_OF_SCOPE), timeout=120)
    assert r.returncode == 0, r.stderr
    m = re.search(r"^out of scope to triage \(\S+\): (\d+)/(\d+) = ([\d.]+) %$", r.stdout, re.M)
    assert m and int(m.group(2)) >= 60, r.stdout
    assert not re.search(r"^right department", r.stdout, re.M), "only out-of-scope lines: no in-scope figures"
    return float(m.group(3)), r.stdout


def test_texts_that_fit_no_category_go_to_triage():
    share, out = out_of_scope_share()
    assert share >= 91.0, out                      # the measured figure, 91.4 % at 0.55 (docs/CLASSIFIER.md)
    for text in ("楼下广场舞音响声音太大", "想咨询住房公积金提取政策"):
        r = run_cli("classify", "--config", CONFIG, text)
        assert r.returncode == 0 and "→ 转研判 to triage" in r.stdout, r.stdout


def test_out_of_scope_meets_the_target():
    share, out = out_of_scope_share()
    assert share >= 90.0, out


def test_cross_validation_reports_in_and_out_of_scope():
    r = run_cli("classify", "--config", CONFIG, "--cross-validate", "5", timeout=120)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^cross-validation: 5 folds of \d+ examples", r.stdout, re.M), r.stdout
    m = re.search(r"^right department \(\S+\): \d+/\d+ = ([\d.]+) %$", r.stdout, re.M)
    w = re.search(r"^wrong department \(\S+\): \d+/\d+ = ([\d.]+) %$", r.stdout, re.M)
    o = re.search(r"^out of scope to triage \(\S+\): \d+/\d+ = ([\d.]+) %$", r.stdout, re.M)
    # measured at 0.55 with the keyword overrides, 2,089 examples: 96.4 % right, 1.3 % wrong,
    # 92.2 % of out-of-scope examples to triage (docs/CLASSIFIER.md)
    assert m and w and o and float(m.group(1)) >= 96.0 and float(w.group(1)) <= 1.5 and float(o.group(1)) >= 92.0, r.stdout
    assert run_cli("classify", "--config", CONFIG, "--cross-validate", "1").returncode != 0


def test_eval_refuses_a_bad_file_with_its_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# ok\nmanhole_cover\t井盖丢了\nmanhole_covr\t井盖丢了\n", encoding="utf-8")
    r = run_cli("classify", "--config", CONFIG, "--eval", str(bad))
    assert r.returncode == 65 and f"{bad}:3: unknown category \"manhole_covr\"" in r.stderr, r.stderr


def events(broker, case_id: str, type_: str) -> list[dict]:
    rows = broker.query("SELECT data FROM events WHERE case_id = ? AND type = ? ORDER BY seq", (case_id, type_))
    return [json.loads(d) for (d,) in rows]


def test_a_submit_without_category_is_routed_or_waits_with_suggestions(make_broker, peers):
    broker = make_broker()
    hotline = peers(broker.endpoint, "hotline-cl", ["intake"])
    hotline.hello()

    # Free text, no keyword of routing.yaml verbatim: 城管 gets it as a missing manhole cover.
    r = hotline.request("SUBMIT", {"case": case_body("文化路人行道上的井盖丢了", "CL-1", category=None,
                                                     description="晚上路过差点掉进去，很危险")})
    assert r.command == "ACCEPTED" and r["state"] == "dispatched", r
    row = broker.query("SELECT category, lead FROM cases WHERE case_id = ?", (r["case_id"],))
    assert row == [("manhole_cover", "chengguan")], row

    # Ambiguous (a hole: a missing cover, a collapse, a mess?): no department is sure enough —
    # triage, with the three suggestions recorded.
    r = hotline.request("SUBMIT", {"case": case_body("人行道上有个洞，很危险", "CL-2", category=None)})
    assert r.command == "ACCEPTED" and r["state"] == "triage", r
    assert broker.query("SELECT category, lead FROM cases WHERE case_id = ?", (r["case_id"],)) == [("unclassified", None)]
    triage = wait_until(lambda: events(broker, r["case_id"], "case.triage"), 10, "the case.triage event")
    assert triage[0]["reason"] == "unclassified", triage
    suggestions = triage[0]["suggestions"]
    assert len(suggestions) == 3 and "road_collapse" in [s["category"] for s in suggestions], suggestions
    assert all(0 <= s["confidence"] <= 1 for s in suggestions) and sum(s["confidence"] for s in suggestions) < 0.8
    assert suggestions == sorted(suggestions, key=lambda s: -s["confidence"])
    assert "unclassified" not in [s["category"] for s in suggestions], "none of these is never suggested"

    # The dispatcher sees them in `muster case`.
    out = broker.cli("case", r["case_id"])
    shown = ", ".join(f"{s['category']} {s['confidence']:.2f}" for s in suggestions[:2])
    assert out.returncode == 0 and f"建议 suggested: {shown}" in out.stdout, (shown, out.stdout)

    # A given category still wins over the text.
    r = hotline.request("SUBMIT", {"case": case_body("井盖丢了", "CL-3", category="street_vending")})
    assert broker.query("SELECT category FROM cases WHERE case_id = ?", (r["case_id"],)) == [("street_vending",)]
