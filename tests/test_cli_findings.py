"""`python -m analysis findings`: the knowledge base from the command line, as text and as JSON, with --search."""

from __future__ import annotations

import json

from analysis import findings, store
from analysis.findings import Evidence


def test_findings_lists_searches_and_prints_json(cli, tiny_log):
    code, _, err = cli("import", tiny_log, "--name", "tiny")
    assert code == 0, err
    code, out, _ = cli("findings")
    assert code == 0 and out.strip() == "No findings."
    with store.connect(cli.db_path) as con:
        queue = findings.save_finding(con, 1, "财务部审批排队", Evidence("bottleneck", 1, {"activity": "B"}),
                                      remedy="Daily approvals", tags=["Finance"])
        findings.save_finding(con, 1, "Sales hand-off", Evidence("handoff", 1, {"from": "Sales", "to": "Finance"}))
        findings.set_outcome(con, queue, "worked", "两天")
    code, out, err = cli("findings")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2 and "Hand-off: Sales hand-off  (tiny)" in lines[0]
    assert "Bottleneck: 财务部审批排队  (tiny)  #Finance  [worked]" in lines[1]

    code, out, err = cli("findings", "--json", "--search", "财务")
    assert code == 0, err
    data = json.loads(out)
    assert [d["finding_id"] for d in data] == [queue]
    found = data[0]
    assert (found["title"], found["remedy"], found["tags"], found["outcome"]) == (
        "财务部审批排队", "Daily approvals", ["Finance"], "worked")
    ev = found["evidence"]
    assert (ev["kind"], ev["log_id"], ev["params"], ev["filter"]) == ("bottleneck", 1, {"activity": "B"},
                                                                    {"time_mode": "intersecting"})
    # Case 1 waits 1 h before B, case 3 30 min, case 4 10 min (and 1 h, 30 min between its own Bs).
    assert ev["figures"]["total_wait_seconds"] == 3600 + 1800 + 3600 + 1800 + 600
    code, out, _ = cli("findings", "--search", "DAILY approvals", "--lang", "zh")
    assert code == 0 and "瓶颈: 财务部审批排队" in out and "[有效]" in out
    code, out, _ = cli("findings", "--search", "nothing like it", "--lang", "zh")
    assert code == 0 and out.strip() == "没有结论。"
    code, out, _ = cli("findings", "--json", "--tag", "Finance")
    assert [d["finding_id"] for d in json.loads(out)] == [queue]
