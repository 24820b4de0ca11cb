"""Sniffing text files (encoding, delimiter, quoting, compression) and proposing the column mapping."""

from __future__ import annotations

import codecs

import pytest

from analysis import importer, mapping, sniff

# A Chinese log: three events, two cases; names must come back exactly as written.
CHINESE = (
    "案例编号,活动,完成时间,执行人,部门\n"
    "C1,提交申请,2024-03-05 09:00,张三,市场部\n"
    "C1,预算审批,2024-03-05 11:30,李四,财务部\n"
    "C2,提交申请,2024-03-06 10:00,王五,市场部\n"
)
CHINESE_EVENTS = [
    ("C1", "提交申请", "张三", "市场部"),
    ("C1", "预算审批", "李四", "财务部"),
    ("C2", "提交申请", "王五", "市场部"),
]


def events(con, log_id: int) -> list[tuple]:
    """(case, activity, resource, department) of a log in case and event order."""
    return con.execute(
        "SELECT case_id, activity, resource, department FROM events WHERE log_id = ? ORDER BY case_id, pos",
        [log_id],
    ).fetchall()


def test_utf8(db, write):
    path = write("zh.csv", CHINESE, "utf-8")
    assert sniff.sniff(path) == sniff.TextDialect("utf-8", ",", False)
    result = importer.import_file(db, path)
    assert (result.cases, result.events) == (2, 3)
    assert events(db, result.log_id) == CHINESE_EVENTS


def test_utf8_with_bom_keeps_first_header_clean(db, write):
    path = write("bom.csv", codecs.BOM_UTF8 + CHINESE.encode("utf-8"))
    assert sniff.sniff(path).encoding == "utf-8-sig"
    ins = importer.inspect_file(db, path)
    # The BOM must not stick to the first column name, or '案例编号' would not be found as the case id.
    assert ins.columns[0] == "案例编号"
    assert ins.mapping.columns["case"] == "案例编号"
    result = importer.import_file(db, path)
    assert events(db, result.log_id) == CHINESE_EVENTS


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_gbk_and_gb18030_chinese(db, write, encoding):
    path = write(f"{encoding}.csv", CHINESE, encoding)
    assert sniff.sniff(path).encoding == "gb18030"  # GB18030 is a superset of GBK
    result = importer.import_file(db, path)
    assert events(db, result.log_id) == CHINESE_EVENTS


def test_gbk_gzipped(db, write):
    path = write("zh.csv.gz", CHINESE, "gbk", gz=True)
    assert sniff.sniff(path) == sniff.TextDialect("gb18030", ",", True)
    result = importer.import_file(db, path)
    assert events(db, result.log_id) == CHINESE_EVENTS


@pytest.mark.parametrize(
    "data, expected",
    [
        (codecs.BOM_UTF16_LE + CHINESE.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + CHINESE.encode("utf-16-be"), "utf-16"),
        (CHINESE.encode("utf-16-le"), "utf-16-le"),
    ],
    ids=["le-bom", "be-bom", "le-no-bom"],
)
def test_utf16(db, write, data, expected):
    path = write("u16.csv", data)
    assert sniff.sniff(path) == sniff.TextDialect(expected, ",", False)
    result = importer.import_file(db, path)
    assert events(db, result.log_id) == CHINESE_EVENTS


def test_latin1_is_not_mistaken_for_gbk(db, write):
    text = (
        "case;activity;timestamp;resource\n"
        "1;café order;2024-03-05 09:00;Müller\n"
        "1;Prüfung;2024-03-05 10:00;Jürgen Böhm\n"
    )
    path = write("latin1.csv", text, "latin-1")
    # Latin-1 text is also valid cp1252 (its superset for Windows exports), which decodes it identically.
    assert sniff.sniff(path) == sniff.TextDialect("cp1252", ";", False)
    result = importer.import_file(db, path)
    assert events(db, result.log_id) == [("1", "café order", "Müller", None), ("1", "Prüfung", "Jürgen Böhm", None)]


def test_latin1_umlauts_that_also_decode_as_gb18030(db, write):
    # Every byte pair here is valid GB18030 (ü+l, ü+f, ö+h); it still has to be read as Latin-1.
    text = "case,activity,timestamp,resource\n1,Prüfung,2024-03-05 09:00,Müller\n1,Freigabe,2024-03-05 10:00,Böhm\n"
    path = write("umlauts.csv", text, "latin-1")
    assert sniff.detect_encoding(path.read_bytes()) in ("cp1252", "latin-1")
    result = importer.import_file(db, path)
    assert events(db, result.log_id) == [("1", "Prüfung", "Müller", None), ("1", "Freigabe", "Böhm", None)]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"])
def test_delimiters(db, write, delimiter):
    # The other delimiters appear inside values (unquoted where the file's own delimiter is not among them).
    activity = '"Check, approve; sign"' if delimiter in ",;" else "Check, approve; sign"
    lines = [
        ["case", "activity", "timestamp", "resource"],
        ["1", activity, "2024-03-05 09:00", "Ann"],
        ["1", "Pay", "2024-03-05 10:00", "Bob"],
        ["2", "Pay", "2024-03-06 10:00", "Bob"],
    ]
    path = write("d.csv", "".join(delimiter.join(line) + "\n" for line in lines))
    assert sniff.sniff(path).delimiter == delimiter
    result = importer.import_file(db, path)
    assert events(db, result.log_id) == [
        ("1", "Check, approve; sign", "Ann", None), ("1", "Pay", "Bob", None), ("2", "Pay", "Bob", None)]


def test_quoted_fields_with_commas_doubled_quotes_and_newlines(db, write):
    text = (
        "case,activity,timestamp,note\n"
        '1,"Review, legal",2024-03-05 09:00,"He said ""hi"""\n'
        '1,"Two\nlines",2024-03-05 10:00,plain\n'
        '2,Plain,2024-03-05 11:00,"a,b,c"\n'
    )
    path = write("quoted.csv", text)
    assert sniff.sniff(path).delimiter == ","
    result = importer.import_file(db, path)
    assert (result.cases, result.events) == (2, 3)
    rows = db.execute(
        "SELECT case_id, activity, attrs['note'], row_no FROM events WHERE log_id = ? ORDER BY case_id, pos",
        [result.log_id],
    ).fetchall()
    # Row numbers count records (the header is row 1), not physical lines.
    assert rows == [
        ("1", "Review, legal", 'He said "hi"', 2),
        ("1", "Two\nlines", "plain", 3),
        ("2", "Plain", "a,b,c", 4),
    ]


def test_csv_gz(db, write):
    text = "case,activity,timestamp\n1,A,2024-03-05 09:00\n1,B,2024-03-05 10:00\n2,A,2024-03-06 09:00\n"
    path = write("log.csv.gz", text, gz=True)
    assert sniff.sniff(path) == sniff.TextDialect("utf-8", ",", True)
    result = importer.import_file(db, path)
    assert (result.cases, result.events) == (2, 3)
    assert events(db, result.log_id) == [("1", "A", None, None), ("1", "B", None, None), ("2", "A", None, None)]


@pytest.mark.parametrize("name, gz", [("log.tsv", False), ("log.tsv.gz", True)])
def test_tsv(db, write, name, gz):
    text = "case\tactivity\ttimestamp\n1\tCheck, approve\t2024-03-05 09:00\n1\tPay\t2024-03-05 10:00\n"
    path = write(name, text, gz=gz)
    assert sniff.sniff(path).delimiter == "\t"
    result = importer.import_file(db, path)
    assert events(db, result.log_id) == [("1", "Check, approve", None, None), ("1", "Pay", None, None)]


# ---------------------------------------------------------------------------------------------
# Column mapping


def test_mapping_xes_names():
    proposed = mapping.propose_mapping(
        ["case:concept:name", "concept:name", "time:timestamp", "org:resource", "org:group", "lifecycle:transition"])
    assert proposed.columns == {
        "case": "case:concept:name", "activity": "concept:name", "timestamp": "time:timestamp",
        "start": None, "resource": "org:resource", "department": "org:group"}
    assert proposed.ambiguous == {}


@pytest.mark.parametrize("department", ["Department", "org:group"])
def test_mapping_english_names(department):
    headers = ["Case ID", "Activity", "Start Timestamp", "Complete Timestamp", "Resource", department]
    proposed = mapping.propose_mapping(headers, {"Start Timestamp", "Complete Timestamp"})
    assert proposed.columns == {
        "case": "Case ID", "activity": "Activity", "timestamp": "Complete Timestamp",
        "start": "Start Timestamp", "resource": "Resource", "department": department}
    assert proposed.ambiguous == {}


@pytest.mark.parametrize(
    "headers, expected",
    [
        (["案例编号", "活动", "开始时间", "完成时间", "执行人", "部门"],
         {"case": "案例编号", "activity": "活动", "timestamp": "完成时间", "start": "开始时间",
          "resource": "执行人", "department": "部门"}),
        (["案例ID", "活动名称", "开始时间", "结束时间", "处理人", "组织"],
         {"case": "案例ID", "activity": "活动名称", "timestamp": "结束时间", "start": "开始时间",
          "resource": "处理人", "department": "组织"}),
        (["工单号", "环节", "时间", "处理人", "部门"],
         {"case": "工单号", "activity": "环节", "timestamp": "时间", "start": None,
          "resource": "处理人", "department": "部门"}),
    ],
)
def test_mapping_chinese_names(headers, expected):
    timestamp_like = {h for h in headers if "时间" in h}
    proposed = mapping.propose_mapping(headers, timestamp_like)
    assert proposed.columns == expected
    assert proposed.ambiguous == {}


@pytest.mark.parametrize(
    "headers, activity",
    [
        (["案例编号", "活动类型", "活动名称", "完成时间"], "活动名称"),
        (["案例编号", "活动", "活动类型", "完成时间"], "活动"),
        (["工单号", "活动类型", "环节", "时间"], "环节"),
        (["案例编号", "活动类型", "完成时间"], None),  # an activity *type* is not the activity
    ],
)
def test_mapping_activity_type_is_not_the_activity(headers, activity):
    proposed = mapping.propose_mapping(headers, {headers[-1]})
    assert proposed.columns["activity"] == activity
    assert "activity" not in proposed.ambiguous


def test_mapping_two_activity_columns_are_ambiguous():
    proposed = mapping.propose_mapping(["Case ID", "Activity", "Task", "Timestamp"], {"Timestamp"})
    assert proposed.ambiguous == {"activity": ["Activity", "Task"]}


def test_mapping_chinese_file_end_to_end(db, write):
    text = (
        "工单号,环节,开始时间,结束时间,处理人,组织,活动类型\n"
        "W-1,受理,2024-03-05 09:00,2024-03-05 09:30,张三,客服部,常规\n"
        "W-1,审核,2024-03-05 10:00,2024-03-05 12:00,李四,法务部,常规\n"
    )
    path = write("gd.csv", text, "gb18030")
    ins = importer.inspect_file(db, path)
    assert ins.mapping.columns == {"case": "工单号", "activity": "环节", "timestamp": "结束时间",
                                   "start": "开始时间", "resource": "处理人", "department": "组织"}
    result = importer.import_file(db, path)
    assert result.has_start
    assert events(db, result.log_id) == [("W-1", "受理", "张三", "客服部"), ("W-1", "审核", "李四", "法务部")]


def test_mapping_start_column_with_some_empty_cells(db, write):
    # 'Start' is only filled where the system records it; it is still the start column.
    text = (
        "Case,Activity,Start,End\n"
        "1,A,2024-03-05 08:00,2024-03-05 09:00\n"
        "1,B,,2024-03-05 10:00\n"
        "1,C,2024-03-05 10:30,2024-03-05 11:00\n"
        "1,D,,2024-03-05 12:00\n"
    )
    path = write("partial_start.csv", text)
    ins = importer.inspect_file(db, path)
    assert ins.mapping.columns["start"] == "Start"
    assert ins.mapping.columns["timestamp"] == "End"
    assert importer.import_file(db, path).has_start


def test_windows_1252_punctuation(db, write):
    # Excel on Windows writes cp1252: the euro sign is 0x80 and the en dash 0x96 (control codes in Latin-1).
    text = "case;activity;timestamp\n1;Budget € – check;2024-03-05 09:00\n1;Pay;2024-03-05 10:00\n"
    result = importer.import_file(db, write("cp1252.csv", text, "cp1252"))
    assert events(db, result.log_id) == [("1", "Budget € – check", None, None), ("1", "Pay", None, None)]


def test_crlf_line_endings(db, write):
    path = write("crlf.csv", b"case,activity,timestamp\r\n1,A,2024-03-05 09:00\r\n1,B,2024-03-05 10:00\r\n")
    result = importer.import_file(db, path)
    assert events(db, result.log_id) == [("1", "A", None, None), ("1", "B", None, None)]


def test_gbk_text_after_the_first_megabyte(db, write):
    # An ASCII-only first megabyte says nothing about the encoding; the Chinese row near the end must survive.
    lines = ["case,activity,timestamp"] + [f"{i},A,2024-03-05 09:00" for i in range(45_000)]
    lines.append("x,审批,2024-03-05 10:00")
    path = write("late.csv", "\n".join(lines) + "\n", "gbk")
    assert path.stat().st_size > sniff.SAMPLE_BYTES
    result = importer.import_file(db, path)
    assert result.events == 45_001
    assert db.execute("SELECT activity FROM events WHERE log_id = ? AND case_id = 'x'",
                      [result.log_id]).fetchall() == [("审批",)]


def test_column_chosen_for_two_roles_is_refused(db, write):
    path = write("two.csv", "case,activity,timestamp\n1,A,2024-03-05 09:00\n")
    with pytest.raises(importer.ImportFailed) as failed:
        importer.import_file(db, path, importer.ImportOptions(columns={"activity": "case", "case": "case"}))
    assert [p.code for p in failed.value.problems if p.severity == "error"] == ["column_twice"]
