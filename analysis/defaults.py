"""The embedded default: the sample campaign log, imported on first start when the store is empty."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from analysis import importer, store
from analysis.sql import query

SAMPLE_NAME = "示例：营销活动 Sample campaigns"
SAMPLE_CASES = 3000
SAMPLE_SEED = 7

# The shipped to-be flow for the sample (SAMPLE.md's "end-to-end campaign team"): planning and finance work
# as one campaign team (no queue between them), budget approval within one day instead of the Tue/Thu
# batch, and procurement buys in parallel with the creative work instead of waiting for legal sign-off.
SAMPLE_SCENARIO_OPERATIONS = [
    {"op": "shared_team", "departments": ["市场部-策划室", "财务部"], "name": "活动团队 Campaign team"},
    {"op": "cap_wait", "activities": ["预算审批"], "hours": 24},
    {"op": "parallel", "branches": [["广告创意设计", "定稿", "法务审核"], ["物资采购"]]},
]


def ensure_sample(con: duckdb.DuckDBPyConnection) -> int | None:
    """Import the generated sample log if the store holds no log yet; its id (None when nothing was done)."""
    if store.list_logs(con):
        return None
    from analysis import sample

    with tempfile.TemporaryDirectory(prefix="procdiag-sample-") as folder:
        path = Path(folder) / "sample_campaigns.csv"
        sample.write_sample_csv(path, n_cases=SAMPLE_CASES, seed=SAMPLE_SEED, lang="zh")
        result = importer.import_file(con, path, importer.ImportOptions(name=SAMPLE_NAME))
    from analysis import redesign

    redesign.save_scenario(con, _sample_scenario(), result.log_id)
    return result.log_id


def _sample_scenario():
    """The shipped scenario as a Scenario (imported late: redesign is not needed to start)."""
    from analysis.redesign import Scenario

    return Scenario.of("端到端活动团队 End-to-end campaign team", SAMPLE_SCENARIO_OPERATIONS)


def sample_log_id(con: duckdb.DuckDBPyConnection) -> int | None:
    """The id of the shipped sample log, if it is in the store."""
    row = query("SELECT log_id FROM logs WHERE name = $name ORDER BY log_id LIMIT 1",
                name=SAMPLE_NAME).one(con)
    return int(row[0]) if row else None
