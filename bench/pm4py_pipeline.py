"""pm4py's equivalent of our import + dfg + variants, from the same CSV (one run = one process).

    python bench/pm4py_pipeline.py FILE.csv

Reads the benchmark CSV (English headers) with pandas, parses the complete timestamp, formats the
frame for pm4py and computes the frequency DFG, the performance DFG and the variants: the figures
`python -m analysis dfg` / `variants` give. Only the complete timestamp is parsed, because that is all
pm4py's DFG uses (our import parses the start timestamp too), so pm4py is not charged for extra work.
Prints one line of counts so the runner can check that the work was done.
"""

from __future__ import annotations

import sys

import pandas as pd
import pm4py

CASE, ACTIVITY, TIMESTAMP = "Case ID", "Activity", "Complete Timestamp"


def main(path: str) -> None:
    df = pd.read_csv(path)
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], format="%Y-%m-%d %H:%M:%S")
    df = pm4py.format_dataframe(df, case_id=CASE, activity_key=ACTIVITY, timestamp_key=TIMESTAMP)
    dfg, _, _ = pm4py.discover_dfg(df)
    performance, _, _ = pm4py.discover_performance_dfg(df)
    variants = pm4py.get_variants(df)
    print(f"events={len(df)} edges={len(dfg)} performance_edges={len(performance)} variants={len(variants)}")


if __name__ == "__main__":
    main(sys.argv[1])
