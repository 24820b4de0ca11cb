"""The shape of the code the issue asks for, checked so it stays: short functions in analysis/, named SQL
parameters only, Streamlit's caches and cursors in one page module, analysis/ free of Streamlit."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANALYSIS = sorted((ROOT / "analysis").glob("*.py"))
PAGES = sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|WHERE)\b")
# A positional placeholder: `?` after an operator, a comma or a parenthesis (not in a sentence like "why?").
PLACEHOLDER = re.compile(r"(=|<|>|,|\(|\bIN|\bLIMIT|\bAND|\bOR|\bTHEN|\bELSE)\s*\?(\s|,|\)|::|$)")


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _strings(path: Path):
    """Every string constant and every literal part of an f-string, with its line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_no_function_in_analysis_is_over_60_lines():
    long = [f"{p.name}:{f.name} ({f.end_lineno - f.lineno + 1} lines)" for p in ANALYSIS for f in _functions(p)
            if f.end_lineno - f.lineno + 1 > 60]
    assert long == []


def test_sql_in_analysis_uses_named_parameters_only():
    positional = [f"{p.name}:{line}" for p in ANALYSIS if p.name != "texts.py" for line, text in _strings(p)
                  if SQL_WORDS.search(text) and PLACEHOLDER.search(text)]
    assert positional == []


def test_no_sql_text_surgery():
    # `.replace` on a SQL string was how parameters and columns used to be patched in.
    surgery = [f"{p.name}:{line}" for p in ANALYSIS for line, text in enumerate(
        p.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"(sql|SQL|source|COLUMNS|body|where)\w*\.replace\(", text)]
    assert surgery == []


def test_one_quoting_helper():
    defined = [p.name for p in ANALYSIS if "def quote_ident" in p.read_text(encoding="utf-8")]
    assert defined == ["sql.py"]


def test_streamlit_caches_and_cursors_live_in_the_caching_module_only():
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        if path.name == "cache.py":
            assert "st.cache_data" in text and "cursor()" in text
            continue
        assert "st.cache_" not in text, path.name
        assert ".cursor(" not in text and "_fresh(" not in text, path.name
        assert "from analysis import store" not in text or path.name == "app.py", path.name


def test_analysis_never_imports_streamlit_and_pages_import_analysis_through_no_back_door():
    for path in ANALYSIS:
        assert not re.search(r"^\s*(import|from) streamlit", path.read_text(encoding="utf-8"), re.M), path.name
