"""What AppTest-based tests share besides fixtures (those are in conftest.py): the app's path and small
readers for what a page shows."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from analysis import defaults, sample, store

APP = str(store.ROOT / "app.py")
TYPE_COLUMN = sample.COLUMNS["zh"]["type"]


def metric(at: AppTest, label: str) -> str:
    """The value shown by the KPI card with this label."""
    return next(m.value for m in at.metric if m.label == label)


def table_with_column(at: AppTest, column: str):
    """The first table shown that has this column (AppTest cannot look tables up by key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def chart_spec(at: AppTest, key: str) -> dict:
    """The plotly figure of the chart with this key, as a dict."""
    return json.loads(next(c.proto.spec for c in at.get("plotly_chart") if c.proto.id.endswith(key)))


def expected_sample_cases(type_value: str | None = None) -> int:
    """Cases of the sample generator's own frame, counted with pandas (independent of the store)."""
    frame = sample.generate_sample(defaults.SAMPLE_CASES, defaults.SAMPLE_SEED, "zh")
    if type_value is not None:
        frame = frame[frame[TYPE_COLUMN] == type_value]
    return frame[sample.COLUMNS["zh"]["case"]].nunique()
