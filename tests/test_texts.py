"""Every text a user reads exists in English and Chinese, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

from analysis import importer
from analysis.texts import TEXTS, t

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*ROOT.glob("analysis/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_has_both_languages_with_the_same_placeholders():
    missing = [key for key, entry in TEXTS.items() if not (entry.get("en", "").strip() and entry.get("zh", "").strip())]
    assert not missing
    differ = [key for key, entry in TEXTS.items() if placeholders(entry["en"]) != placeholders(entry["zh"])]
    assert not differ
    assert any(re.search(r"[\u4e00-\u9fff]", entry["zh"]) for entry in TEXTS.values())


def test_every_literal_text_key_in_the_code_exists():
    # t("key", ...) and tr("key", ...) with a literal key; keys built at run time are checked below.
    call = re.compile(r"\b(?:t|tr)\(\s*\"([a-z_]+\.[a-z0-9_.]+)\"")
    used = {(path.name, key) for path in SOURCES for key in call.findall(path.read_text(encoding="utf-8"))}
    assert len(used) > 100
    assert sorted((name, key) for name, key in used if key not in TEXTS) == []


def test_every_import_problem_says_what_is_wrong_and_how_to_fix_it():
    source = "".join((ROOT / "analysis" / f"{m}.py").read_text(encoding="utf-8")
                     for m in ("importer", "import_options", "parsing", "validation", "writing"))
    # Row conditions are reported under their own code, except a bad start (reported as bad_timestamp).
    row_codes = (set(importer.INVALID) - {"bad_start"}) | {"before_1970", "in_future"}
    codes = set(re.findall(r"Problem\(\s*\"([a-z_0-9]+)\"", source)) | row_codes
    assert {"out_of_memory", "bad_memory_budget", "missing_case", "duplicates"} <= codes
    for code in sorted(codes):
        problem = importer.Problem(code, "error", 3, params={
            "column": "c", "role": "case", "budget": "1MB", "detail": "d", "row": 2, "format": "%Y",
            "activities": "Start", "example": "5/3/2024", "columns": "a, b", "roles": "case",
            "name": "log.csv", "date": "2026-11-28"})
        for lang in ("en", "zh"):
            assert problem.message(lang) != f"problem.{code}", code
            assert problem.fix(lang) and not problem.fix(lang).startswith("fix."), code
    assert t("problem.out_of_memory", "zh", budget="1MB") == "导入所需内存超过了预算 1MB。"


def test_a_user_error_survives_copying_and_pickling():
    import copy
    import pickle

    from analysis.errors import UserError

    nested = UserError("err.in_file", path="s.json", detail=UserError("err.scenario_object"))
    for again in (copy.copy(nested), pickle.loads(pickle.dumps(nested))):
        assert str(again) == 's.json: A scenario is one JSON object {"name": ..., "operations": [...]}'
        assert again.message("zh") == 's.json：方案应是一个 JSON 对象 {"name": ..., "operations": [...]}'


def test_english_counts_agree_in_number():
    assert t("problem.missing_case", "en", count=1) == "1 row has no case id."
    assert t("problem.missing_case", "en", count=2) == "2 rows have no case id."
    assert t("problem.missing_case", "en", count=1200) == "1,200 rows have no case id."
    assert t("im.done", "en", name="x", cases=1, events=3) == "Imported 'x': 1 case, 3 events."
    assert t("problem.missing_case", "zh", count=1) == "1 行缺少案例编号。"
    # No English text says "1 rows" for any count placeholder.
    for key, entry in TEXTS.items():
        names = placeholders(entry["en"])
        if names and all(n in ("count", "cases", "events", "rows") for n in names):
            assert " 1 rows" not in " " + t(key, "en", **dict.fromkeys(names, 1)), key
