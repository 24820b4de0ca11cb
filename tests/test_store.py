"""The store: where it lives, the log catalogue, deleting and re-importing, locking, event order and metrics."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from analysis import importer, metrics, sample, store

D = dt.datetime


def read_only(path):
    """A read-only connection to a store file written by another process."""
    return duckdb.connect(str(path), read_only=True)


# ---------------------------------------------------------------------------------------------
# Where the database lives


def test_db_path_reads_the_environment_at_call_time(monkeypatch, tmp_path):
    monkeypatch.delenv("PROCDIAG_DB", raising=False)
    assert store.db_path() == store.DEFAULT_DB
    monkeypatch.setenv("PROCDIAG_DB", str(tmp_path / "a.duckdb"))
    assert store.db_path() == tmp_path / "a.duckdb"
    monkeypatch.setenv("PROCDIAG_DB", str(tmp_path / "b.duckdb"))
    assert store.db_path() == tmp_path / "b.duckdb"
    # An explicit path wins over the variable.
    assert store.db_path(tmp_path / "c.duckdb") == tmp_path / "c.duckdb"


def test_connect_creates_the_store_named_by_the_environment(monkeypatch, tmp_path):
    target = tmp_path / "sub" / "env.duckdb"
    monkeypatch.setenv("PROCDIAG_DB", str(target))
    con = store.connect()
    try:
        assert store.list_logs(con) == []
    finally:
        con.close()
    assert target.exists()


def test_cli_honours_procdiag_db_and_db_overrides_it(cli, tmp_path, tiny_log):
    env_db, flag_db = tmp_path / "env.duckdb", tmp_path / "flag.duckdb"
    env = {"PROCDIAG_DB": str(env_db)}
    code, _, err = cli("import", tiny_log, db=None, env=env)
    assert code == 0, err
    code, _, err = cli("import", tiny_log, "--name", "flagged", db=flag_db, env=env)
    assert code == 0, err
    with read_only(env_db) as con:
        assert con.execute("SELECT name, n_events FROM logs").fetchall() == [("tiny.csv", 13)]
    with read_only(flag_db) as con:
        assert con.execute("SELECT name, n_events FROM logs").fetchall() == [("flagged", 13)]


# ---------------------------------------------------------------------------------------------
# The catalogue


def test_log_catalogue(db, write, tiny_log):
    first = importer.import_file(db, tiny_log)
    second = importer.import_file(
        db, write("other.csv", "case,activity,timestamp\nx,A,2024-03-05 09:00\nx,B,2024-03-05 10:00\n"),
        importer.ImportOptions(name="其他日志"))
    logs = store.list_logs(db)
    assert [(i.log_id, i.name, i.n_cases, i.n_events, i.n_dropped, i.has_start) for i in logs] == [
        (first.log_id, "tiny.csv", 4, 13, 0, False),
        (second.log_id, "其他日志", 1, 2, 0, False),
    ]
    assert logs[0].source == str(tiny_log)
    assert logs[0].mapping["columns"]["activity"] == "activity"
    assert store.resolve_log(db, "其他日志") == second.log_id
    assert store.resolve_log(db, str(first.log_id)) == first.log_id


def test_delete_log_removes_its_rows_from_every_table(db, write):
    text = (
        "case,activity,timestamp,region\n"
        "1,A,2024-03-05 09:00,North\n"
        "1,B,2024-03-05 10:00,North\n"
        "2,A,2024-03-05 09:00,South\n"
    )
    path = write("regions.csv", text)
    keep = importer.import_file(db, path, importer.ImportOptions(name="keep"))
    gone = importer.import_file(db, path, importer.ImportOptions(name="gone"))

    def counts(log_id: int) -> dict[str, int]:
        return {t: db.execute(f'SELECT count(*) FROM "{t}" WHERE log_id = ?', [log_id]).fetchone()[0]
                for t in ("logs", "events", "cases", "variants", "case_attributes")}

    expected = {"logs": 1, "events": 3, "cases": 2, "variants": 2, "case_attributes": 2}
    assert counts(gone.log_id) == expected
    assert store.delete_log(db, "gone") == gone.log_id
    assert counts(gone.log_id) == dict.fromkeys(expected, 0)
    assert counts(keep.log_id) == expected
    with pytest.raises(store.LogNotFound, match="keep"):
        store.delete_log(db, "gone")


def test_reimport_makes_a_new_log_and_never_overwrites(db, tiny_log):
    results = [importer.import_file(db, tiny_log) for _ in range(3)]
    assert [r.name for r in results] == ["tiny.csv", "tiny.csv (2)", "tiny.csv (3)"]
    assert len({r.log_id for r in results}) == 3
    per_log = db.execute("SELECT log_id, count(*) FROM events GROUP BY log_id ORDER BY log_id").fetchall()
    assert per_log == [(r.log_id, 13) for r in results]
    named = [importer.import_file(db, tiny_log, importer.ImportOptions(name="Q1")).name for _ in range(2)]
    assert named == ["Q1", "Q1 (2)"]


def test_locked_database_gives_a_plain_message(cli, tmp_path, tiny_log):
    path = tmp_path / "locked.duckdb"
    holder = store.connect(path)  # this process holds the write lock
    try:
        for args in (("logs",), ("import", tiny_log), ("summary", "1")):
            code, out, err = cli(*args, db=path)
            assert code != 0, args
            assert "Traceback" not in err
            assert "in use" in err and str(path) in err, err
    finally:
        holder.close()
    code, out, err = cli("logs", "--json", db=path)
    assert (code, json.loads(out)) == (0, [])


# ---------------------------------------------------------------------------------------------
# The import's memory budget (PROCDIAG_IMPORT_MEMORY) and settings


TINY_TEXT = "case,activity,timestamp\n1,A,2024-03-05 09:00\n1,B,2024-03-05 10:00\n"


def settings(con) -> tuple[str, str]:
    return con.execute("SELECT current_setting('memory_limit'), current_setting('checkpoint_threshold')").fetchone()


def test_import_runs_within_its_memory_budget_and_restores_the_settings(db, tiny_log, write, monkeypatch):
    before = settings(db)
    with duckdb.connect() as other:   # how DuckDB itself shows a 64MB budget
        other.execute("SET memory_limit = '64MB'")
        budget_shown = settings(other)[0]
    assert budget_shown != before[0]
    monkeypatch.setenv("PROCDIAG_IMPORT_MEMORY", "64MB")
    during = []
    importer.import_file(db, tiny_log, progress=lambda fraction, stage: during.append(settings(db)[0]))
    assert during and set(during) == {budget_shown}
    assert settings(db) == before
    with pytest.raises(importer.ImportFailed):
        importer.import_file(db, write("bad.csv", "case,activity,timestamp\n1,A,not a date\n"))
    assert settings(db) == before


def test_the_default_budget_is_twice_the_file_and_at_least_500mb(db, tiny_log, tmp_path, monkeypatch):
    monkeypatch.delenv("PROCDIAG_IMPORT_MEMORY", raising=False)
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(400_000_000)          # sparse: 400 MB long, nothing written
    assert importer._default_budget(big) == "800MB"
    assert importer._default_budget(tiny_log) == "500MB"
    with duckdb.connect() as other:
        other.execute("SET memory_limit = '500MB'")
        shown = settings(other)[0]
    during = []
    importer.import_file(db, tiny_log, progress=lambda fraction, stage: during.append(settings(db)[0]))
    assert set(during) == {shown}


def test_a_small_memory_budget_gives_the_same_log(tmp_path, monkeypatch):
    path = tmp_path / "sample.csv"
    sample.write_sample_csv(path, n_cases=400, lang="en")
    tables = {"events": "case_id, pos", "cases": "case_id", "variants": "variant_id",
              "case_attributes": "case_id, name"}

    def imported(budget: str) -> dict[str, list]:
        monkeypatch.setenv("PROCDIAG_IMPORT_MEMORY", budget)
        con = store.connect(tmp_path / f"{budget}.duckdb")
        try:
            importer.import_file(con, path)
            return {t: con.execute(f"SELECT * EXCLUDE (log_id) FROM {t} ORDER BY {order}").fetchall()
                    for t, order in tables.items()}
        finally:
            con.close()

    small, default = imported("16MB"), imported("4GB")
    assert len(default["events"]) > 4000
    assert small == default


def test_memory_problems_are_reported_plainly_and_change_nothing(cli, tmp_path):
    path = tmp_path / "sample.csv"
    sample.write_sample_csv(path, n_cases=3000, lang="en")
    for budget, message in (("lots", "PROCDIAG_IMPORT_MEMORY=lots is not a memory size"),
                            ("1MB", "more than its memory budget of 1MB")):
        code, out, err = cli("import", path, env={"PROCDIAG_IMPORT_MEMORY": budget})
        assert code == 2, (budget, err)
        assert message in err and "PROCDIAG_IMPORT_MEMORY" in err and "Traceback" not in err
    code, out, err = cli("logs", "--json")
    assert (code, json.loads(out)) == (0, [])
    code, out, err = cli("import", path, "--lang", "zh", env={"PROCDIAG_IMPORT_MEMORY": "1MB"})
    assert "导入所需内存超过了预算 1MB" in err


def test_no_such_column_is_remembered_but_an_empty_one_is_not(db, write):
    # The user said "no resource column"; the next file with the same columns is read the same way.
    text = "case,activity,timestamp,start,resource\n1,A,2024-03-05 10:00,,Ann\n1,B,2024-03-05 11:00,,Bob\n"
    importer.import_file(db, write("first.csv", text), importer.ImportOptions(columns={"resource": ""}))
    remember = importer.ImportOptions(remember="all")
    second = importer.import_file(db, write("second.csv", text), remember)
    assert db.execute("SELECT count(resource) FROM events WHERE log_id = ?", [second.log_id]).fetchone()[0] == 0
    assert [p.params["name"] for p in second.problems if p.code == "mapping_remembered"] == ["first.csv"]
    third = importer.import_file(db, write("third.csv", text), remember)   # and the time after
    assert db.execute("SELECT count(resource) FROM events WHERE log_id = ?", [third.log_id]).fetchone()[0] == 0
    # The start column was empty then (no starts): with starts now, it is read as the start column.
    filled = text.replace(",,Ann", ",2024-03-05 09:00,Ann")
    fourth = importer.import_file(db, write("fourth.csv", filled), remember)
    assert fourth.has_start
    # By default an import depends on the file and its options only; "ambiguous" leaves decided roles alone.
    for options in (importer.ImportOptions(), importer.ImportOptions(remember="ambiguous")):
        plain = importer.import_file(db, write("fifth.csv", text), options)
        assert db.execute("SELECT count(resource) FROM events WHERE log_id = ?", [plain.log_id]).fetchone()[0] == 2
        assert "mapping_remembered" not in [p.code for p in plain.problems]


def test_the_users_choice_beats_a_remembered_column(db, write):
    text = "case,activity,time_a,time_b\n1,A,2024-03-05 09:00,2024-03-05 10:00\n1,B,2024-03-05 11:00,2024-03-05 12:00\n"
    importer.import_file(db, write("first.csv", text), importer.ImportOptions(columns={"timestamp": "time_b",
                                                                                     "start": "time_a"}))
    # Now time_a is the timestamp: the remembered start (time_a) must not claim it too.
    again = importer.import_file(db, write("second.csv", text), importer.ImportOptions(
        columns={"timestamp": "time_a"}, remember="all"))
    assert db.execute("SELECT min(ts) FROM events WHERE log_id = ?", [again.log_id]).fetchone()[0] == dt.datetime(
        2024, 3, 5, 9, 0)


def test_concurrent_imports_keep_the_settings_until_the_last_one_ends(db, tiny_log, write, monkeypatch):
    monkeypatch.setenv("PROCDIAG_IMPORT_MEMORY", "64MB")
    before = settings(db)
    with importer._import_cursor(db, tiny_log):      # an import in progress
        during = settings(db)
        importer.import_file(db, write("other.csv", TINY_TEXT))   # another one starts and ends meanwhile
        assert settings(db) == during != before
    assert settings(db) == before


def test_the_budget_counts_compressed_files_larger_and_never_passes_half_the_memory(tmp_path):
    import os

    parquet = tmp_path / "big.parquet"
    with parquet.open("wb") as f:
        f.truncate(200_000_000)                      # sparse, 200 MB: counts as 1 GB of data
    assert importer._default_budget(parquet) == "2000MB"
    half = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2e6
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as f:
        f.truncate(int(half * 1e6))                  # as large as half the memory: twice that would be too much
    assert importer._default_budget(huge) == f"{round(half)}MB"


# ---------------------------------------------------------------------------------------------
# Event order


def positions(con, log_id: int) -> list[tuple[str, str, int, int]]:
    """(case, activity, pos, row_no) in case and position order."""
    return con.execute("SELECT case_id, activity, pos, row_no FROM events WHERE log_id = ? ORDER BY case_id, pos",
                       [log_id]).fetchall()


def test_event_order_by_time_then_file_row_never_by_name(db, write):
    text = (
        "case,activity,timestamp\n"
        "1,B,2024-03-05 10:00\n"   # 2: ties with row 3 and comes first in the file
        "1,A,2024-03-05 10:00\n"   # 3
        "2,C,2024-03-05 12:00\n"   # 4: the file is not sorted by time
        "2,A,2024-03-05 09:00\n"   # 5
        "2,B,2024-03-05 10:00\n"   # 6
    )
    result = importer.import_file(db, write("order.csv", text))
    assert positions(db, result.log_id) == [
        ("1", "B", 1, 2), ("1", "A", 2, 3),
        ("2", "A", 1, 5), ("2", "B", 2, 6), ("2", "C", 3, 4),
    ]
    assert metrics.variants(db, result.log_id) == [
        metrics.Variant(["B", "A"], 1, 0.5, 0.0, 0.0),
        metrics.Variant(["A", "B", "C"], 1, 0.5, 3 * 3600.0, 3 * 3600.0),
    ]


def test_event_order_uses_start_where_present(db, write):
    text = (
        "case,activity,begin,finish\n"
        "1,X,2024-03-05 08:00,2024-03-05 11:00\n"   # 2: starts 08:00, ends last of the 08:00 starters
        "1,Y,,2024-03-05 09:00\n"                   # 3: no start, so 09:00 places it
        "1,Z,2024-03-05 08:00,2024-03-05 10:00\n"   # 4: starts 08:00, ends 10:00
        "1,W,2024-03-05 08:00,2024-03-05 10:00\n"   # 5: same start and end as row 4: file order
    )
    options = importer.ImportOptions(columns={"start": "begin", "timestamp": "finish"})
    result = importer.import_file(db, write("starts.csv", text), options)
    assert result.has_start
    assert positions(db, result.log_id) == [("1", "Z", 1, 4), ("1", "W", 2, 5), ("1", "X", 3, 2), ("1", "Y", 4, 3)]
    assert [v.activities for v in metrics.variants(db, result.log_id)] == [["Z", "W", "X", "Y"]]
    # Cycle time runs from the first start (08:00) to the last end (11:00).
    assert db.execute("SELECT cycle_seconds FROM cases WHERE log_id = ?", [result.log_id]).fetchone()[0] == 3 * 3600


# ---------------------------------------------------------------------------------------------
# Metrics on TINY_LOG (see conftest): worked out by hand
#   A->B: 60, 30, 10 min         B->C: 120, 240, 10 min     A->C: 30 min     B->B: 60, 30 min (case 3 only)
#   cycle times: 10800, 1800, 21600, 1200 s -> sorted 1200, 1800, 10800, 21600
#   mean 35400 / 4 = 8850; median (1800 + 10800) / 2 = 6300; p90 at index 0.9 * 3 = 2.7:
#   10800 + 0.7 * (21600 - 10800) = 18360


def test_dfg_on_a_tiny_log(db, tiny_log):
    log_id = importer.import_file(db, tiny_log).log_id
    result = metrics.dfg(db, log_id)
    edges = {(e.source, e.target): e for e in result.edges}
    assert edges == {
        ("A", "B"): metrics.Edge("A", "B", 3, 3, 2000.0, 1800.0),
        ("B", "C"): metrics.Edge("B", "C", 3, 3, 7400.0, 7200.0),
        ("A", "C"): metrics.Edge("A", "C", 1, 1, 1800.0, 1800.0),
        ("B", "B"): metrics.Edge("B", "B", 2, 1, 2700.0, 2700.0),
    }
    assert len(result.edges) == 4
    assert result.start_activities == {"A": 4}
    assert result.end_activities == {"C": 4}


def test_summary_on_a_tiny_log(db, tiny_log):
    log_id = importer.import_file(db, tiny_log).log_id
    result = metrics.summary(db, log_id)
    assert (result.cases, result.events, result.activities, result.variants, result.resources,
            result.departments) == (4, 13, 3, 3, 4, 2)
    assert result.cycle_time_seconds == pytest.approx({"mean": 8850.0, "median": 6300.0, "p90": 18360.0})
    assert dt.datetime.fromisoformat(result.first_timestamp) == D(2024, 3, 5, 9, 0)
    assert dt.datetime.fromisoformat(result.last_timestamp) == D(2024, 3, 7, 9, 20)


def test_variants_on_a_tiny_log(db, tiny_log):
    log_id = importer.import_file(db, tiny_log).log_id
    # ABC: cases 1 and 4 (10800 and 1200 s): median 6000, p90 1200 + 0.9 * 9600 = 9840.
    assert metrics.variants(db, log_id) == [
        metrics.Variant(["A", "B", "C"], 2, 0.5, 6000.0, 9840.0),
        metrics.Variant(["A", "C"], 1, 0.25, 1800.0, 1800.0),
        metrics.Variant(["A", "B", "B", "B", "C"], 1, 0.25, 21600.0, 21600.0),
    ]
    assert [v.activities for v in metrics.variants(db, log_id, top=1)] == [["A", "B", "C"]]


def test_database_from_another_schema_version_is_refused_plainly(tmp_path):
    import duckdb

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE events (log_id INTEGER)")  # an older layout, without schema_version
    with pytest.raises(store.StoreError, match="another version"):
        store.connect(path)


def test_variants_depend_on_order_not_only_on_the_activities(tmp_path):
    # Same multiset of activities in different orders: four variants, counted by hand.
    rows = ["case,activity,timestamp"]
    sequences = {"c1": "ABA", "c2": "BAA", "c3": "AAB", "c4": "ABA", "c5": "AB", "c6": "BA"}
    for case, seq in sequences.items():
        rows += [f"{case},{a},2024-03-0{i + 1} 09:00" for i, a in enumerate(seq)]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with store.connect(tmp_path / "v.duckdb") as con:
        result = importer.import_file(con, path)
        found = {tuple(v.activities): v.cases for v in metrics.variants(con, result.log_id)}
    assert found == {("A", "B", "A"): 2, ("B", "A", "A"): 1, ("A", "A", "B"): 1, ("A", "B"): 1, ("B", "A"): 1}
