"""Result records as strict JSON: the one conversion from frames, numpy numbers and NaN to plain values.

Every `as_dict` of a result record and every `--json` output goes through `plain`, so a missing number is
`null` (never `NaN`, which jq and strict parsers reject) and numpy types never leak.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """`value` as JSON-ready Python: dicts, lists, str, int, float (finite), bool and None."""
    if isinstance(value, pd.DataFrame):
        return [plain(row) for row in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return [plain(v) for v in value.tolist()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    return value if isinstance(value, str) else str(value)


def number(value: Any) -> float | None:
    """A float for JSON, None for a missing or non-finite one."""
    return plain(float(value)) if value is not None and value is not pd.NA else None


def rows(frame: pd.DataFrame) -> list[dict]:
    """DataFrame rows as JSON-ready dicts."""
    return plain(frame)


def to_json(value: Any) -> str:
    """Strict JSON text (Chinese kept readable); raises on anything `plain` could not make finite."""
    return json.dumps(plain(value), ensure_ascii=False, indent=2, allow_nan=False)
