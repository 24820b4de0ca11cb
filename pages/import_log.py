"""Import: pick a file, check the proposed mapping, formats and validation report, import; manage logs."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis import importer, store
from analysis.mapping import ROLES
from pages import cache
from pages.state import lang, page_title, pass_message, tr, viewer_mode

WATCH_DIR = store.ROOT / "data" / "watch"
UPLOAD_DIR = Path(tempfile.gettempdir()) / "procdiag-uploads"
CHOOSE = "\x00choose"  # the mapping box's "— choose —" entry (no column can be called that)


def uploaded_path(upload) -> Path:
    """Save an upload to disk once (DuckDB reads files; big uploads must not live in memory twice)."""
    data = upload.getbuffer()  # a view of the upload, not a second copy of it
    digest = hashlib.sha1(data).hexdigest()[:12]
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    path = UPLOAD_DIR / f"{digest}_{Path(upload.name).name}"
    if not path.exists():
        path.write_bytes(data)
    return path


def choose_file() -> Path | None:
    """The file to import, from an upload, a server path or the watched folder."""
    sources = ["upload", "path", "watch"]
    source = st.radio(tr("im.source"), sources, horizontal=True, key="im_source",
                      format_func=lambda s: tr(f"im.src_{s}"))
    if source == "upload":
        upload = st.file_uploader(tr("im.upload"), key="im_upload",
                                  type=["csv", "tsv", "txt", "gz", "xlsx", "parquet", "xes"])
        return uploaded_path(upload) if upload else None
    if source == "path":
        text = st.text_input(tr("im.path"), key="im_path").strip()
        if not text:
            return None
        path = Path(text).expanduser()
        if not path.is_file():
            st.error(tr("im.path_missing", path=path))
            return None
        return path
    WATCH_DIR.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in WATCH_DIR.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        st.info(tr("im.watch_empty", folder=WATCH_DIR))
        return None
    return st.selectbox(tr("im.watch_pick", folder=WATCH_DIR), files, format_func=lambda p: p.name, key="im_watch")


def report_table(problems: list[importer.Problem]) -> pd.DataFrame:
    """The validation report as a readable table."""
    return pd.DataFrame([{
        tr("im.col_severity"): tr(f"severity.{p.severity}"),
        tr("im.col_problem"): p.message(lang()),
        tr("im.col_rows"): ", ".join(map(str, p.rows)) + (" …" if p.count > len(p.rows) and p.rows else ""),
        tr("im.col_examples"): " | ".join(p.examples),
        tr("im.col_fix"): p.fix(lang()),
    } for p in problems])


def options_from_widgets(columns: list[str] | None) -> importer.ImportOptions:
    """The ImportOptions the widgets currently say (mapping choices only once the user touched them)."""
    mapping = {}
    for role in ROLES:
        # Only what the user changed is passed on, so an ambiguous proposal stays flagged until decided.
        choice = st.session_state.get(f"im_map_{role}")
        touched = st.session_state.get(f"im_touched_{role}")
        if touched and columns is not None and choice not in (None, CHOOSE) and (choice == "" or choice in columns):
            mapping[role] = choice
    fmt = (st.session_state.get("im_format") or "").strip() or None
    return importer.ImportOptions(
        name=(st.session_state.get("im_name") or "").strip() or None,
        columns=mapping,
        timestamp_format=fmt,
        exclude_activities=tuple(st.session_state.get("im_exclude") or ()),
        drop_invalid=st.session_state.get("im_mode") == "drop",
        drop_duplicates=bool(st.session_state.get("im_dups")),
        remember="all",   # the mapping boxes show what the last import with these columns used
    )


page_title("im.title")
if viewer_mode():
    st.info(tr("im.viewer"))
    st.stop()
st.caption(tr("im.intro"))

path = choose_file()
if path is not None:
    if st.session_state.get("im_file") != str(path):
        # A new file: forget the previous file's mapping choices.
        stale = [k for k in st.session_state if k.startswith(("im_map_", "im_touched_"))]
        for key in stale + ["im_exclude", "im_format", "im_exclude_recalled"]:
            st.session_state.pop(key, None)
        st.session_state["im_file"] = str(path)
        st.session_state["im_name"] = path.name.split("_", 1)[1] if path.parent == UPLOAD_DIR else path.name
    columns = st.session_state.get("im_columns")
    options = options_from_widgets(columns)
    scan_options = importer.ImportOptions(columns=options.columns, timestamp_format=options.timestamp_format,
                                          exclude_activities=options.exclude_activities, remember="all")
    ins, failure = cache.inspect_file(str(path), path.stat().st_mtime, scan_options)
    if failure:
        st.error(tr("import.failed"))
        st.dataframe(report_table(failure), hide_index=True, key="im_report_fail")
        st.stop()
    st.session_state["im_columns"] = ins.columns
    st.caption(tr("im.detected", kind=ins.kind.upper(), encoding=ins.encoding or "–",
                  delimiter=repr(ins.delimiter) if ins.delimiter else "–", rows=ins.n_rows))
    with st.expander(tr("im.preview"), expanded=True):
        st.dataframe(pd.DataFrame(ins.preview), hide_index=True, key="im_preview")

    st.subheader(tr("im.mapping"))
    st.caption(tr("im.mapping_help"))
    cols = st.columns(len(ROLES))
    for col, role in zip(cols, ROLES, strict=True):
        # An ambiguous role starts on "choose" so that picking either candidate is a real choice.
        ambiguous = role in ins.mapping.ambiguous and not st.session_state.get(f"im_touched_{role}")
        choices = [CHOOSE, "", *ins.columns] if ambiguous else ["", *ins.columns]
        current = CHOOSE if ambiguous else ins.mapping.columns.get(role) or ""
        if st.session_state.get(f"im_map_{role}") not in choices:
            st.session_state[f"im_map_{role}"] = current
        col.selectbox(tr(f"role.{role}"), choices, key=f"im_map_{role}",
                      format_func=lambda c: tr("im.choose") if c == CHOOSE else c or tr("im.none"),
                      on_change=st.session_state.__setitem__, args=(f"im_touched_{role}", True))
        if role in ins.mapping.ambiguous:
            col.warning(", ".join(ins.mapping.ambiguous[role]))
        else:
            col.caption(tr("im.confidence", c=ins.mapping.confidence.get(role, 0.0)))

    st.subheader(tr("im.formats"))
    st.text_input(tr("im.format_override"), key="im_format", help=tr("im.format_help"))
    for role, fmt in ins.formats.items():
        st.markdown(tr("im.format_of", role=tr(f"role.{role}"), label=fmt.describe(lang())))
        examples = [(raw, parsed) for s in fmt.shapes for raw, parsed in zip(s.examples, s.parsed, strict=True)][:6]
        st.dataframe(pd.DataFrame(examples, columns=[tr("im.raw"), tr("im.parsed")]), hide_index=True,
                     key=f"im_examples_{role}")

    recalled = [a for a in ins.remembered_exclusions if a in ins.activities]
    if recalled and st.session_state.get("im_exclude_recalled") != str(path):
        # The last import with these columns left out these activities (e.g. Disco's Start / End): again.
        st.session_state["im_exclude_recalled"] = str(path)
        st.session_state["im_exclude"] = recalled
        st.rerun()
    st.multiselect(tr("im.exclude"), ins.activities, key="im_exclude")

    st.subheader(tr("im.report"))
    if ins.problems:
        st.dataframe(report_table(ins.problems), hide_index=True, key="im_report")
    else:
        st.success(tr("im.report_ok", rows=ins.n_valid, cases=ins.n_cases))

    st.radio(tr("im.mode"), ["strict", "drop"], horizontal=True, key="im_mode",
             format_func=lambda m: tr("im.strict") if m == "strict" else tr("im.drop"))
    st.checkbox(tr("im.drop_dups"), key="im_dups")
    st.text_input(tr("im.name"), key="im_name")
    blocked = bool(ins.errors) and st.session_state.get("im_mode") != "drop"
    if blocked:
        st.warning(tr("im.blocked"))
    if st.button(tr("im.go"), type="primary", disabled=blocked, key="im_go"):
        bar = st.progress(0.0, text=tr("im.progress", stage=""))
        try:
            result = cache.import_file(
                path, options_from_widgets(ins.columns),
                progress=lambda f, stage: bar.progress(f, text=tr("im.progress", stage=tr(f"stage.{stage}"))))
        except importer.ImportFailed as exc:
            st.error(tr("import.failed"))
            st.dataframe(report_table(exc.problems), hide_index=True, key="im_report_after")
        else:
            st.session_state["pending_log"] = result.log_id  # the sidebar selects it on the next run
            pass_message(tr("im.done", name=result.name, cases=result.cases, events=result.events))
            st.switch_page("pages/overview.py")

st.divider()
st.subheader(tr("im.manage"))
if message := st.session_state.pop("im_deleted", None):
    st.info(message)
for info in cache.logs():
    with st.expander(f"{info.log_id} · {info.name}"):
        st.caption(tr("im.log_line", cases=info.n_cases, events=info.n_events, when=info.imported_at))
        new_name = st.text_input(tr("im.rename"), value=info.name, key=f"im_rename_{info.log_id}")
        if st.button(tr("im.rename_go"), key=f"im_rename_go_{info.log_id}"):
            taken = {other.name for other in cache.logs() if other.log_id != info.log_id}
            if not new_name.strip():
                st.error(tr("err.empty_name"))
            elif new_name.strip() in taken:
                st.error(tr("err.name_taken", name=new_name.strip()))
            else:
                cache.rename_log(info.log_id, new_name)
                st.rerun()
        confirm = st.checkbox(tr("im.delete_confirm", name=info.name), key=f"im_delete_ok_{info.log_id}")
        if st.button(tr("im.delete"), disabled=not confirm, key=f"im_delete_{info.log_id}"):
            try:
                cache.delete_log(info.log_id)
                st.session_state["im_deleted"] = tr("im.deleted", name=info.name)
            except store.LogNotFound:
                st.session_state["im_deleted"] = tr("side.no_log_gone")  # another session deleted it first
            st.rerun()
        st.caption(tr("im.mapping_used"))
        st.code(json.dumps(info.mapping, ensure_ascii=False, indent=2), language="json")
