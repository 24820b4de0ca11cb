"""XES reader: hand-checked tiny logs, lifecycle pairing, unsafe XML, and cross-checks with pm4py."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from analysis.xes import XesError, read_xes

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

HEADER = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1.0" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace"><string key="concept:name" value="UNKNOWN"/></global>
  <global scope="event">
    <string key="concept:name" value="UNKNOWN"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+01:00"/>
  </global>
  <classifier name="Activity classifier" keys="concept:name lifecycle:transition"/>
  <string key="origin" value="hand-made"/>
  <float key="meta:resource_sd" value="7.6">
    <float key="Alice" value="0.1"/>
  </float>
"""
FOOTER = "</log>\n"


def ev(name: str, ts: str, lifecycle: str | None = None, **extra: str) -> str:
    """One <event> element; extra keyword keys use '__' for ':' (org__resource -> org:resource)."""
    parts = [f'<string key="concept:name" value="{name}"/>', f'<date key="time:timestamp" value="{ts}"/>']
    if lifecycle is not None:
        parts.append(f'<string key="lifecycle:transition" value="{lifecycle}"/>')
    parts += [f'<string key="{k.replace("__", ":")}" value="{v}"/>' for k, v in extra.items()]
    return "<event>" + "".join(parts) + "</event>"


def trace(case: str, *events: str, attrs: str = "") -> str:
    """One <trace> element with its case id, optional raw attribute XML and events."""
    return f'<trace><string key="concept:name" value="{case}"/>{attrs}{"".join(events)}</trace>\n'


@pytest.fixture
def write_xes(tmp_path):
    """Write HEADER + traces + FOOTER to tmp_path and return the path (gzipped on request)."""

    def write(*traces: str, name: str = "log.xes", gzipped: bool = False) -> Path:
        text = (HEADER + "".join(traces) + FOOTER).encode("utf-8")
        path = tmp_path / name
        path.write_bytes(gzip.compress(text) if gzipped else text)
        return path

    return write


def rows(table: pa.Table, *columns: str) -> list[tuple]:
    """Selected columns as a list of row tuples, for one-line comparisons."""
    return list(zip(*(table.column(c).to_pylist() for c in columns), strict=True))


# --- Tiny hand-made logs --------------------------------------------------------------------


def test_minimal_trace(write_xes):
    path = write_xes(
        trace(
            "c1",
            "<event>"
            '<string key="concept:name" value="Register"/>'
            '<date key="time:timestamp" value="2010-12-30T11:02:00.000+01:00"/>'
            '<string key="org:resource" value="Alice"/>'
            '<int key="amount" value="42"/>'
            '<float key="cost" value="1.50"/>'
            '<boolean key="urgent" value="true"/>'
            '<id key="ticket" value="T-7"/>'
            '<list key="tags"><values><string key="tag" value="x"/></values></list>'
            '<string key="note" value="has child"><string key="nested" value="ignored"/></string>'
            "</event>",
            ev("Approve", "2010-12-30T13:00:00.000+01:00", org__resource="Bob"),
        )
    )
    table = read_xes(path)
    assert table.num_rows == 2
    assert all(field.type == pa.string() for field in table.schema)
    # Log-level attributes, <global> defaults, nested and list children are not columns.
    assert set(table.column_names) == {
        "case:concept:name", "concept:name", "time:timestamp", "org:resource",
        "amount", "cost", "urgent", "ticket", "note",
    }  # fmt: skip
    assert table.to_pylist() == [
        {
            "case:concept:name": "c1", "concept:name": "Register",
            "time:timestamp": "2010-12-30T11:02:00.000+01:00", "org:resource": "Alice",
            "amount": "42", "cost": "1.50", "urgent": "true", "ticket": "T-7", "note": "has child",
        },
        {
            "case:concept:name": "c1", "concept:name": "Approve",
            "time:timestamp": "2010-12-30T13:00:00.000+01:00", "org:resource": "Bob",
            "amount": None, "cost": None, "urgent": None, "ticket": None, "note": None,
        },
    ]  # fmt: skip


def test_gzip_detected_by_magic_bytes_not_extension(write_xes):
    body = trace("c1", ev("A", "2020-01-01T00:00:00+00:00"), ev("B", "2020-01-02T00:00:00+00:00"))
    gz_without_suffix = write_xes(body, name="export.xes", gzipped=True)
    plain_with_gz_suffix = write_xes(body, name="plain.xes.gz")
    proper = write_xes(body, name="log.xes.gz", gzipped=True)
    for path in (gz_without_suffix, plain_with_gz_suffix, proper):
        assert rows(read_xes(path), "case:concept:name", "concept:name") == [("c1", "A"), ("c1", "B")]
    assert isinstance(read_xes(str(proper)), pa.Table)  # str paths work as well as Path


def test_trace_attributes_become_case_columns(write_xes):
    path = write_xes(
        trace(
            "c1",
            ev("A", "2020-01-01T00:00:00+00:00"),
            ev("B", "2020-01-02T00:00:00+00:00"),
            attrs='<string key="department" value="Finance"/><float key="budget" value="1000.0"/>',
        ),
        # An attribute after the events still belongs to the whole trace.
        trace("c2", ev("A", "2020-01-03T00:00:00+00:00"), '<string key="department" value="Legal"/>'),
    )
    table = read_xes(path)
    assert rows(table, "case:concept:name", "concept:name", "case:department", "case:budget") == [
        ("c1", "A", "Finance", "1000.0"),
        ("c1", "B", "Finance", "1000.0"),
        ("c2", "A", "Legal", None),
    ]
    assert "department" not in table.column_names


def test_na_case_id_stays_text(write_xes):
    path = write_xes(
        trace("NA", ev("A", "2020-01-01T00:00:00+00:00")), trace("", ev("B", "2020-01-02T00:00:00+00:00"))
    )
    assert read_xes(path).column("case:concept:name").to_pylist() == ["NA", ""]


def test_empty_log_has_core_columns(write_xes):
    table = read_xes(write_xes())
    assert table.num_rows == 0
    assert table.column_names == ["case:concept:name", "concept:name", "time:timestamp"]


# --- Lifecycle pairing ----------------------------------------------------------------------


def test_overlapping_instances_pair_first_in_first_out(write_xes):
    path = write_xes(
        trace(
            "c1",
            ev("A", "2020-01-01T08:00:00+00:00", "start", org__resource="Ann"),
            ev("A", "2020-01-01T09:00:00+00:00", "start", org__resource="Ben"),
            ev("B", "2020-01-01T09:30:00+00:00", "complete"),
            ev("A", "2020-01-01T10:00:00+00:00", "complete"),
            ev("A", "2020-01-01T11:00:00+00:00", "complete", org__resource="Cid"),
        )
    )
    table = read_xes(path)
    # Rows sit at their START's position; complete attrs win, missing ones fall back to the start.
    assert rows(
        table, "concept:name", "start_timestamp", "time:timestamp", "lifecycle:transition", "org:resource"
    ) == [
        ("A", "2020-01-01T08:00:00+00:00", "2020-01-01T10:00:00+00:00", "complete", "Ann"),
        ("A", "2020-01-01T09:00:00+00:00", "2020-01-01T11:00:00+00:00", "complete", "Cid"),
        ("B", None, "2020-01-01T09:30:00+00:00", "complete", None),
    ]
    assert table.schema.field("start_timestamp").type == pa.string()


def test_complete_without_start_and_start_without_complete(write_xes):
    path = write_xes(
        trace(
            "c1",
            ev("A", "2020-01-01T10:00:00+00:00", "complete"),  # completes before any start: unpaired
            ev("A", "2020-01-01T11:00:00+00:00", "start"),
            ev("B", "2020-01-01T12:00:00+00:00", "start"),
            ev("B", "2020-01-01T13:00:00+00:00", "complete"),
        ),
        trace("c2", ev("A", "2020-01-02T10:00:00+00:00", "complete")),  # pairing never crosses traces
    )
    assert rows(
        read_xes(path),
        "case:concept:name",
        "concept:name",
        "start_timestamp",
        "time:timestamp",
        "lifecycle:transition",
    ) == [
        ("c1", "A", None, "2020-01-01T10:00:00+00:00", "complete"),
        ("c1", "A", None, "2020-01-01T11:00:00+00:00", "start"),
        ("c1", "B", "2020-01-01T12:00:00+00:00", "2020-01-01T13:00:00+00:00", "complete"),
        ("c2", "A", None, "2020-01-02T10:00:00+00:00", "complete"),
    ]


def test_concept_instance_decides_the_pair(write_xes):
    path = write_xes(
        trace(
            "c1",
            ev("A", "2020-01-01T08:00:00+00:00", "start", concept__instance="i1"),
            ev("A", "2020-01-01T09:00:00+00:00", "start", concept__instance="i2"),
            ev("A", "2020-01-01T10:00:00+00:00", "complete", concept__instance="i2"),
            ev("A", "2020-01-01T11:00:00+00:00", "complete", concept__instance="i1"),
        )
    )
    assert rows(read_xes(path), "concept:instance", "start_timestamp", "time:timestamp") == [
        ("i1", "2020-01-01T08:00:00+00:00", "2020-01-01T11:00:00+00:00"),
        ("i2", "2020-01-01T09:00:00+00:00", "2020-01-01T10:00:00+00:00"),
    ]


def test_lifecycle_match_is_case_insensitive(write_xes):
    path = write_xes(
        trace(
            "c1",
            ev("A", "2020-01-01T08:00:00+00:00", "START"),
            ev("A", "2020-01-01T09:00:00+00:00", "Complete"),
        )
    )
    assert rows(read_xes(path), "start_timestamp", "time:timestamp", "lifecycle:transition") == [
        ("2020-01-01T08:00:00+00:00", "2020-01-01T09:00:00+00:00", "Complete"),
    ]


def test_bpic_sub_statuses_are_never_paired(write_xes):
    path = write_xes(
        trace(
            "1-364285768",
            ev("Accepted", "2010-03-31T16:59:42+02:00", "In Progress"),
            ev("Queued", "2010-03-31T17:45:48+02:00", "Awaiting Assignment"),
            ev("Completed", "2010-04-06T15:44:07+02:00", "Resolved"),
            ev("Completed", "2010-04-06T15:44:38+02:00", "Closed"),
        )
    )
    table = read_xes(path)
    assert "start_timestamp" not in table.column_names
    assert rows(table, "concept:name", "lifecycle:transition") == [
        ("Accepted", "In Progress"),
        ("Queued", "Awaiting Assignment"),
        ("Completed", "Resolved"),
        ("Completed", "Closed"),
    ]


# --- Unsafe or broken XML -------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE log [\n<!ENTITY lol0 "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10))
    + "]>\n"
)


def test_entity_bomb_is_not_expanded(tmp_path):
    body = BILLION_LAUGHS + (
        '<log xmlns="http://www.xes-standard.org/"><trace><string key="concept:name" value="c&lol2;"/>'
        '<event><string key="concept:name" value="&lol9;"/></event></trace></log>'
    )
    path = tmp_path / "bomb.xes"
    path.write_text(body)
    with pytest.raises(XesError, match="DOCTYPE") as info:
        read_xes(path)
    assert "lollol" not in str(info.value)
    # Same bomb referenced from the <log> tag itself: libxml2's amplification limit stops it.
    path.write_text(BILLION_LAUGHS + '<log a="&lol9;"><trace/></log>')
    with pytest.raises(XesError) as info:
        read_xes(path)
    assert "lollol" not in str(info.value)


def test_external_entities_are_not_read(tmp_path):
    # If libxml2 ever loaded secret.dtd, its broken declaration would surface as a syntax error
    # naming the file (checked with resolve_entities=True); we must stop at the DOCTYPE instead.
    secret = tmp_path / "secret.dtd"
    secret.write_text('<!ENTITY leak "SECRET_CONTENT">\n<!ELEMENT broken garbage here\n')
    body = '<log><trace><string key="concept:name" value="&leak;"/><event/></trace></log>'
    for doctype in (
        f'<!DOCTYPE log [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>',
        f'<!DOCTYPE log SYSTEM "{secret.as_uri()}">',
        f'<!DOCTYPE log [<!ENTITY leak SYSTEM "{secret.as_uri()}">]>',
    ):
        path = tmp_path / "external.xes"
        path.write_text('<?xml version="1.0"?>\n' + doctype + "\n" + body)
        with pytest.raises(XesError, match="DOCTYPE") as info:
            read_xes(path)
        assert "SECRET_CONTENT" not in str(info.value)


def test_not_xes_or_broken_xml_raises_value_error(tmp_path):
    path = tmp_path / "x.xes"
    path.write_text('<?xml version="1.0"?><rss><channel/></rss>')
    with pytest.raises(ValueError, match="root element is <rss>"):
        read_xes(path)
    path.write_text('<log><trace><string key="concept:name" value="c1"/><event>')
    with pytest.raises(ValueError, match="not well-formed"):
        read_xes(path)
    path.write_bytes(gzip.compress(b"<log></log>")[:12])
    with pytest.raises(ValueError):
        read_xes(path)


# --- Real logs against pm4py ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Install the optional requirement:UserWarning")
@pytest.mark.parametrize(
    ("name", "n_cases", "n_events"),
    [("receipt", 1434, 8577), ("helpdesk", 4580, 21348), ("bpic2013_incidents", 7554, 65533)],
)
def test_real_log_matches_pm4py(name, n_cases, n_events):
    path = DATA / f"{name}.xes.gz"
    if not path.exists():
        pytest.skip(f"{path} not available")
    import pandas as pd
    import pm4py  # prints a banner on import, so only here

    table = read_xes(path)
    expected = pm4py.read_xes(str(path), show_progress_bar=False)

    assert (table.num_rows, len(set(table.column("case:concept:name").to_pylist()))) == (n_events, n_cases)
    assert table.num_rows == len(expected)
    assert all(field.type == pa.string() for field in table.schema)
    # These logs have no start/complete pairs (BPIC 2013's lifecycle is a sub-status): no pairing.
    assert "start_timestamp" not in table.column_names

    def sequences(cases: list[str], activities: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for case, activity in zip(cases, activities, strict=True):
            out.setdefault(case, []).append(activity)
        return out

    ours = sequences(table.column("case:concept:name").to_pylist(), table.column("concept:name").to_pylist())
    theirs = sequences(expected["case:concept:name"].astype(str).tolist(), expected["concept:name"].tolist())
    assert ours == theirs
    assert list(ours) == list(theirs)  # cases appear in the same (document) order

    # Timestamp text keeps its offset; as instants it must equal pm4py's parsed UTC values.
    parsed = pd.to_datetime(pd.Series(table.column("time:timestamp").to_pylist()), format="ISO8601", utc=True)
    assert (
        parsed.dt.as_unit("us").to_numpy() == expected["time:timestamp"].dt.as_unit("us").to_numpy()
    ).all()
    if "lifecycle:transition" in expected.columns:
        assert table.column("lifecycle:transition").to_pylist() == expected["lifecycle:transition"].tolist()
