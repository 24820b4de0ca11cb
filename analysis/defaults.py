"""The embedded default: the sample campaign log, imported on first start when the store is empty."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from analysis import importer, store

SAMPLE_NAME = "示例：营销活动 Sample campaigns"
SAMPLE_CASES = 3000
SAMPLE_SEED = 7


def ensure_sample(con: duckdb.DuckDBPyConnection) -> int | None:
    """Import the generated sample log if the store holds no log yet; returns its id (None if nothing done)."""
    if store.list_logs(con):
        return None
    from analysis import sample

    with tempfile.TemporaryDirectory(prefix="procdiag-sample-") as folder:
        path = Path(folder) / "sample_campaigns.csv"
        sample.write_sample_csv(path, n_cases=SAMPLE_CASES, seed=SAMPLE_SEED, lang="zh")
        result = importer.import_file(con, path, importer.ImportOptions(name=SAMPLE_NAME))
    return result.log_id


def sample_log_id(con: duckdb.DuckDBPyConnection) -> int | None:
    """The id of the shipped sample log, if it is in the store."""
    row = con.execute("SELECT log_id FROM logs WHERE name = ? ORDER BY log_id LIMIT 1", [SAMPLE_NAME]).fetchone()
    return int(row[0]) if row else None
