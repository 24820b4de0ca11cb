"""Two cohorts of one log side by side: which KPIs differ, and at which steps and paths one loses time.

A cohort is the global filter AND a split condition (filters.AllOf):
- attribute: a case attribute's values (region North vs South, routine vs innovation campaigns);
- period: cases started before a date vs from that date on (before / after a change);
- speed: the fast cases (cycle time at most the p-th percentile) vs the slow ones (at least the q-th),
  percentiles of the cases the global filter keeps.
Every figure comes from the functions the other pages use (overview.kpis, bottlenecks.activity_stats,
metrics.dfg) run on each cohort, so the definitions are DESIGN.md's. Deltas are B − A.

What lives where: the splits (`by_attribute`, `by_period`, `by_speed`, `cohorts_from`) make `Cohorts`;
`kpi_table`, `activity_table` and `path_table` are the three tables; `compare` bundles them into the
`Comparison` the CLI, the Compare page and the report share (`findings` in words, `as_dict` =
`compare --json`); `format_kpi` shows a KPI (built on analysis.formatting).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from analysis import bottlenecks, metrics, overview, records
from analysis.errors import UserError
from analysis.filters import AllOf, CaseFilter, kept_cases, kept_events
from analysis.formatting import MISSING, duration, is_missing, number, share, signed_duration
from analysis.sql import query
from analysis.texts import t
from analysis.working_time import WorkCalendar

SPLITS = ("attribute", "period", "speed")
KPIS = ("cases", "events_per_case", "variants", "median_cycle_seconds", "p90_cycle_seconds",
        "mean_cycle_seconds", "handoffs_per_case", "departments_per_case", "rework_share")
DURATION_KPIS = ("median_cycle_seconds", "p90_cycle_seconds", "mean_cycle_seconds")


@dataclass(frozen=True)
class Cohorts:
    """Cohort A and cohort B, and how they were split (for labels and reports)."""

    a: AllOf
    b: AllOf
    split: str                                      # one of SPLITS
    params: tuple[tuple[str, object], ...] = field(default_factory=tuple)

    def param(self, name: str):
        """One of the split's choices (or the speed split's thresholds) by name."""
        return dict(self.params)[name]

    def as_params(self) -> dict:
        """How to make these cohorts again (cohorts_from), JSON-ready: the split and its choices.

        Not the speed split's thresholds, which are percentiles of whatever data it is made on."""
        keep = {"attribute": ("name", "values_a", "values_b"), "period": ("date",),
                "speed": ("fast_pct", "slow_pct")}[self.split]
        return {"split": self.split, **{k: list(v) if isinstance(v, tuple) else v
                                        for k, v in self.params if k in keep}}

    def subject(self) -> str:
        """The split in a few language-neutral words: "Region: North | South", "< 2024-07-01 | ≥ 2024-07-01"."""
        return subject(self.as_params())

    def label(self, which: str, lang: str = "en") -> str:
        """What cohort 'a' or 'b' is, in words: "Region: North", "started before 2024-07-01"."""
        if self.split == "attribute":
            values = self.param("values_a" if which == "a" else "values_b")
            return f"{self.param('name')}: {', '.join(values)}"
        if self.split == "period":
            key = "cmp.before" if which == "a" else "cmp.from"
            return t(key, lang, date=self.param("date"))
        if which == "a":   # the fastest fast_pct %, the slowest (100 − slow_pct) %
            return t("cmp.fast", lang, pct=self.param("fast_pct"),
                     duration=duration(self.param("fast_max_seconds"), lang))
        return t("cmp.slow", lang, pct=100 - self.param("slow_pct"),
                 duration=duration(self.param("slow_min_seconds"), lang))


@dataclass(frozen=True)
class Comparison:
    """Two cohorts side by side: kpi_table, activity_table (steps) and path_table of the same cohorts."""

    cohorts: Cohorts
    kpis: pd.DataFrame
    steps: pd.DataFrame
    paths: pd.DataFrame

    def findings(self, lang: str = "en") -> list[str]:
        """The comparison in a few sentences a manager reads first."""
        return findings(self.cohorts, self.kpis, self.steps, self.paths, lang)

    def as_dict(self, lang: str = "en") -> dict:
        """What `compare --json` prints: the cohorts' labels, KPIs (a, b, delta), steps, paths and findings."""
        kpis = {r.kpi: {"a": records.number(r.a), "b": records.number(r.b), "delta": records.number(r.delta)}
                for r in self.kpis.itertuples()}
        return records.plain({"a": self.cohorts.label("a", lang), "b": self.cohorts.label("b", lang),
                              "kpis": kpis, "steps": self.steps, "paths": self.paths,
                              "findings": self.findings(lang)})


def compare(con: duckdb.DuckDBPyConnection, log_id: int, cohorts: Cohorts,
            calendar: WorkCalendar | None = None) -> Comparison:
    """The two cohorts' KPIs, time per case by step (in working time with a calendar) and paths."""
    return Comparison(cohorts, kpi_table(con, log_id, cohorts), activity_table(con, log_id, cohorts, calendar),
                      path_table(con, log_id, cohorts))


def by_attribute(base: CaseFilter, name: str, values_a, values_b) -> Cohorts:
    """A = cases whose attribute `name` is one of values_a, B = one of values_b (inside `base`)."""
    values_a, values_b = tuple(str(v) for v in values_a), tuple(str(v) for v in values_b)
    if not name or not values_a or not values_b:
        raise UserError("err.cohort_values")
    if set(values_a) & set(values_b):
        raise UserError("err.cohort_overlap", values=", ".join(sorted(set(values_a) & set(values_b))))
    return Cohorts(AllOf((base, CaseFilter(attributes=((name, values_a),)))),
                   AllOf((base, CaseFilter(attributes=((name, values_b),)))),
                   "attribute", (("name", name), ("values_a", values_a), ("values_b", values_b)))


def by_period(base: CaseFilter, date: str | dt.date) -> Cohorts:
    """A = cases started before `date` (an ISO date), B = cases started on it or later (inside `base`)."""
    try:
        if isinstance(date, dt.datetime):   # a timestamp splits at its day
            day = date.date()
        else:
            day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date).strip())
    except ValueError:
        raise UserError("err.cohort_date", date=date) from None
    # A bare date as the upper bound includes its whole day: the day before `date` ends A.
    before = CaseFilter(time_to=(day - dt.timedelta(days=1)).isoformat(), time_mode="started")
    after = CaseFilter(time_from=day.isoformat(), time_mode="started")
    return Cohorts(AllOf((base, before)), AllOf((base, after)), "period", (("date", day.isoformat()),))


def by_speed(con: duckdb.DuckDBPyConnection, log_id: int, base: CaseFilter,
             fast_pct: float = 50, slow_pct: float = 90) -> Cohorts:
    """A = cases at most the fast_pct-th percentile of cycle time, B = at least the slow_pct-th.

    Percentiles (linear interpolation, as quantile_cont and numpy) of the cases `base` keeps.
    """
    if not 0 < fast_pct < slow_pct < 100:
        raise UserError("err.cohort_pcts", fast=fast_pct, slow=slow_pct)
    cases = kept_cases(log_id, base)
    fast_max, slow_min = query(
        f"SELECT quantile_cont(cycle_seconds, $fast), quantile_cont(cycle_seconds, $slow) FROM ({cases.text})",
        cases, fast=fast_pct / 100, slow=slow_pct / 100).one(con)
    if fast_max is None or fast_max >= slow_min:
        raise UserError("err.cohort_speed")
    return Cohorts(AllOf((base, CaseFilter(cycle_max_seconds=fast_max))),
                   AllOf((base, CaseFilter(cycle_min_seconds=slow_min))),
                   "speed", (("fast_pct", fast_pct), ("slow_pct", slow_pct),
                             ("fast_max_seconds", fast_max), ("slow_min_seconds", slow_min)))


def cohorts_from(con: duckdb.DuckDBPyConnection, log_id: int, base: CaseFilter, params: dict) -> Cohorts:
    """The cohorts Cohorts.as_params describes, inside `base` on this log's current data."""
    if not isinstance(params, dict):
        raise UserError("err.cohort_split", split=params, splits=", ".join(SPLITS))
    split = params.get("split")
    if split == "attribute":
        values = [params.get("values_a") or [], params.get("values_b") or []]
        if not isinstance(params.get("name"), str) or not all(
                isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v) for v in values):
            raise UserError("err.cohort_values")
        return by_attribute(base, params["name"], *values)
    if split == "period":
        return by_period(base, str(params.get("date") or ""))
    if split == "speed":
        pcts = [params.get("fast_pct", 50), params.get("slow_pct", 90)]
        if not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in pcts):
            raise UserError("err.cohort_pcts", fast=pcts[0], slow=pcts[1])
        return by_speed(con, log_id, base, float(pcts[0]), float(pcts[1]))
    raise UserError("err.cohort_split", split=split, splits=", ".join(SPLITS))


def subject(params: dict) -> str:
    """as_params' split in a few language-neutral words."""
    if params.get("split") == "attribute":
        return f"{params['name']}: {', '.join(params['values_a'])} | {', '.join(params['values_b'])}"
    if params.get("split") == "period":
        return f"< {params['date']} | ≥ {params['date']}"
    return f"≤ P{params['fast_pct']:g} | ≥ P{params['slow_pct']:g}"


def figures(kpis: pd.DataFrame) -> dict:
    """The figures a saved comparison keeps (knowledge base): cases, median cycle time and rework of each group."""
    k = kpis.set_index("kpi")

    def value(kpi: str, col: str):
        """One cell of the KPI table as a JSON number."""
        return records.number(k.loc[kpi, col])
    return {"cases_a": value("cases", "a"), "cases_b": value("cases", "b"),
            "median_cycle_a_seconds": value("median_cycle_seconds", "a"),
            "median_cycle_b_seconds": value("median_cycle_seconds", "b"),
            "median_cycle_delta_seconds": value("median_cycle_seconds", "delta"),
            "share_rework_a": value("rework_share", "a"), "share_rework_b": value("rework_share", "b")}


def biggest_differences(steps: pd.DataFrame, n: int = 12) -> pd.DataFrame:
    """The n steps of activity_table whose time per case differs most between the groups, either way."""
    return steps.reindex(steps["delta_per_case"].abs().sort_values(ascending=False).index).head(n)


def _rework_share(con: duckdb.DuckDBPyConnection, log_id: int, flt: AllOf) -> float | None:
    """Share of cases in which some activity happens more than once."""
    events = kept_events(log_id, flt)
    return query(
        f"""SELECT avg(CASE WHEN n > d THEN 1.0 ELSE 0.0 END)
           FROM (SELECT case_id, count(*) AS n, count(DISTINCT activity) AS d FROM ({events.text}) GROUP BY case_id)""",
        events).scalar(con)


def _cohort_kpis(con: duckdb.DuckDBPyConnection, log_id: int, flt: AllOf) -> dict:
    k = overview.kpis(con, log_id, flt)
    k["events_per_case"] = k["events"] / k["cases"] if k["cases"] else None
    k["rework_share"] = _rework_share(con, log_id, flt)
    return k


def kpi_table(con: duckdb.DuckDBPyConnection, log_id: int, cohorts: Cohorts) -> pd.DataFrame:
    """One row per KPI (KPIS): kpi, a, b, delta (b − a), ratio (b / a).

    Without departments the hand-offs are between people and departments_per_case becomes resources_per_case."""
    a, b = _cohort_kpis(con, log_id, cohorts.a), _cohort_kpis(con, log_id, cohorts.b)
    rows = []
    for kpi in KPIS:
        x, y = records.number(a.get(kpi)), records.number(b.get(kpi))
        if kpi == "departments_per_case" and a.get("handoff_unit") == "resource":
            kpi = "resources_per_case"   # a log without departments: hand-offs between people (as Overview)
        delta = y - x if x is not None and y is not None else None
        ratio = y / x if delta is not None and x else None
        rows.append({"kpi": kpi, "a": x, "b": y, "delta": delta, "ratio": ratio})
    return pd.DataFrame(rows)


def activity_table(con: duckdb.DuckDBPyConnection, log_id: int, cohorts: Cohorts,
                   calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """Per activity: where each cohort spends its time, per case, B's extra time first.

    Columns: activity, department, share_a / share_b (share of the cohort's cases with the activity),
    wait_per_case_a/b and processing_per_case_a/b (the cohort's total waiting / processing at the
    activity divided by its number of cases), median_wait_a/b, time_per_case_a/b (wait + processing),
    delta_per_case (b − a). Summed over activities, time per case is what each step adds to a case.
    """
    frames = []
    for which, flt in (("a", cohorts.a), ("b", cohorts.b)):
        n = overview.case_count(con, log_id, flt)
        stats = bottlenecks.activity_stats(con, log_id, flt, calendar)
        frames.append(pd.DataFrame({
            "activity": stats["activity"], f"department_{which}": stats["department"],
            f"share_{which}": stats["cases"] / n if n else float("nan"),
            f"wait_per_case_{which}": stats["total_wait_seconds"] / n if n else float("nan"),
            f"processing_per_case_{which}": stats["total_processing_seconds"].fillna(0) / n if n else float("nan"),
            f"median_wait_{which}": stats["median_wait_seconds"],
        }))
    table = frames[0].merge(frames[1], on="activity", how="outer")
    table["department"] = table["department_a"].fillna(table["department_b"])
    for which in "ab":
        # An activity a cohort never does costs it nothing per case.
        for col in ("share", "wait_per_case", "processing_per_case"):
            table[f"{col}_{which}"] = table[f"{col}_{which}"].fillna(0.0)
        table[f"time_per_case_{which}"] = table[f"wait_per_case_{which}"] + table[f"processing_per_case_{which}"]
    table["delta_per_case"] = table["time_per_case_b"] - table["time_per_case_a"]
    columns = ["activity", "department", "share_a", "share_b", "wait_per_case_a", "wait_per_case_b",
               "processing_per_case_a", "processing_per_case_b", "median_wait_a", "median_wait_b",
               "time_per_case_a", "time_per_case_b", "delta_per_case"]
    return table[columns].sort_values(["delta_per_case", "activity"], ascending=[False, True]).reset_index(drop=True)


def path_table(con: duckdb.DuckDBPyConnection, log_id: int, cohorts: Cohorts) -> pd.DataFrame:
    """Per directly-follows path a→b, the biggest differences first: how often and how long each cohort takes it.

    Columns: source, target, share_a / share_b (of the cohort's cases taking it), median_seconds_a / _b,
    delta_share (b − a)."""
    frames = []
    for which, flt in (("a", cohorts.a), ("b", cohorts.b)):
        n = overview.case_count(con, log_id, flt)
        edges = metrics.dfg(con, log_id, flt).edges
        frames.append(pd.DataFrame({
            "source": [e.source for e in edges], "target": [e.target for e in edges],
            f"share_{which}": [e.cases / n for e in edges] if n else [],
            f"median_seconds_{which}": [e.median_seconds for e in edges],
        }, columns=["source", "target", f"share_{which}", f"median_seconds_{which}"]))
    table = frames[0].merge(frames[1], on=["source", "target"], how="outer")
    table["share_a"] = table["share_a"].fillna(0.0)
    table["share_b"] = table["share_b"].fillna(0.0)
    table["delta_share"] = table["share_b"] - table["share_a"]
    order = table["delta_share"].abs().sort_values(ascending=False, kind="stable").index
    return table.loc[order].reset_index(drop=True)


def format_kpi(kpi: str, value: float | None, lang: str = "en", delta: bool = False) -> str:
    """A KPI value as a manager reads it (a B − A value signed, rework then in percentage points).

    Durations in minutes / hours / days, rework in %, counts with thousands separators."""
    if is_missing(value):
        return MISSING
    if kpi in DURATION_KPIS and not delta:
        return duration(value, lang)
    if kpi in DURATION_KPIS:
        return ("+" if value > 0 else "") + signed_duration(value, lang)
    sign = "+" if delta and value > 0 else "−" if delta and value < 0 else ""
    size = abs(value) if delta else value
    if kpi == "rework_share":
        return t("cmp.points", lang, v=f"{sign}{size * 100:.1f}") if delta else share(size)
    if kpi in ("cases", "variants"):
        return sign + number(float(size), 0)
    return f"{sign}{size:.2f}"   # ratios per case: two decimals, no thousands separator


def findings(cohorts: Cohorts, kpis: pd.DataFrame, activities: pd.DataFrame, paths: pd.DataFrame,
             lang: str = "en") -> list[str]:
    """The comparison in a few sentences a manager reads first."""
    a, b = cohorts.label("a", lang), cohorts.label("b", lang)
    k = kpis.set_index("kpi")
    n_a, n_b = k.loc["cases", "a"] or 0, k.loc["cases", "b"] or 0
    if not n_a or not n_b:
        return [t("cmp.f_empty", lang, label=a if not n_a else b)]
    said = [t("cmp.f_sizes", lang, a=a, b=b, n_a=int(n_a), n_b=int(n_b))]
    med_a, med_b = k.loc["median_cycle_seconds", "a"], k.loc["median_cycle_seconds", "b"]
    if med_a is not None and med_b is not None:
        key = "cmp.f_longer" if med_b > med_a else "cmp.f_shorter" if med_b < med_a else "cmp.f_same"
        said.append(t(key, lang, diff=duration(abs(med_b - med_a), lang),
                      med_a=duration(med_a, lang), med_b=duration(med_b, lang)))
    # The steps where the cohort with the longer mean cycle time spends more time per case (the time
    # per case summed over the steps is what they add to the mean).
    group, other, sign = ("B", "A", 1) if (k.loc["mean_cycle_seconds", "delta"] or 0) >= 0 else ("A", "B", -1)
    extra = activities.assign(extra=activities["delta_per_case"] * sign)
    extra = extra[extra["extra"] > 0].sort_values("extra", ascending=False).head(3)
    if not extra.empty:
        steps = t("cmp.list_sep", lang).join(
            t("cmp.f_step", lang, activity=r.activity, extra=duration(r.extra, lang)) for r in extra.itertuples())
        said.append(t("cmp.f_where", lang, group=group, other=other, steps=steps))
    for r in paths[paths["delta_share"].abs() >= 0.1].head(2).itertuples():
        said.append(t("cmp.f_path", lang, source=r.source, target=r.target, share_a=r.share_a, share_b=r.share_b))
    rw_a, rw_b = k.loc["rework_share", "a"], k.loc["rework_share", "b"]
    if rw_a is not None and rw_b is not None and abs(rw_b - rw_a) >= 0.05:
        said.append(t("cmp.f_rework", lang, share_a=rw_a, share_b=rw_b))
    return said
