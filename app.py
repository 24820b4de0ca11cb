"""The dashboard's entry point: page set-up, navigation, and the shared sidebar (language, log, filter)."""

from __future__ import annotations

import streamlit as st

from analysis.filters import ALL
from analysis.store import StoreError, StoreLocked
from pages import cache, filter_panel, state
from pages.state import tr

st.set_page_config(page_title="Process diagnosis 流程诊断", page_icon=":material/troubleshoot:", layout="wide")


def language_switch() -> None:
    """中文 / English; every label, number format and chart title follows it (kept in the URL as ?lang=)."""
    if "lang" not in st.session_state and st.query_params.get("lang") in ("zh", "en"):
        st.session_state["lang"] = st.query_params["lang"]
    choice = st.sidebar.radio(
        "Language / 语言", options=["zh", "en"], format_func=lambda v: {"zh": "中文", "en": "English"}[v],
        index=["zh", "en"].index(state.lang()), horizontal=True, key="lang_choice",
    )
    st.session_state["lang"] = choice
    st.query_params["lang"] = choice


def log_selector() -> int | None:
    """The active log: the sample by default, any imported log on demand."""
    logs = cache.logs()
    if not logs:
        st.sidebar.info(tr("side.no_logs"))
        st.session_state["active_log"] = None
        return None
    ids = [info.log_id for info in logs]
    names = {info.log_id: info.name for info in logs}
    pending = st.session_state.pop("pending_log", None)
    if pending in ids:
        st.session_state["log_choice"] = pending  # a log just imported becomes the active one
    wanted = st.session_state.get("active_log")
    if wanted not in ids:
        sample = cache.sample_log_id()
        wanted = sample if sample in ids else ids[-1]
        st.session_state.pop("log_choice", None)
    if st.session_state.get("log_choice") not in ids:
        st.session_state["log_choice"] = wanted
    chosen = st.sidebar.selectbox(tr("side.log"), ids, format_func=lambda i: names[i], key="log_choice")
    if chosen != st.session_state.get("active_log"):
        st.session_state["case_filter"] = ALL  # a filter names values of one log only
    st.session_state["active_log"] = chosen
    return chosen


st.session_state["shell"] = True  # pages check it: they always run inside this frame
language_switch()
try:
    cache.open_store()
except StoreLocked as exc:
    # Another process (a CLI import, a second server) holds the database: say so, no traceback.
    st.error(tr("err.locked", path=exc.path, holder=exc.holder))
    st.stop()
except StoreError as exc:
    st.error(tr("err.store", detail=exc))
    st.stop()
if state.viewer_mode():
    st.sidebar.caption(tr("side.viewer"))
active = log_selector()
if active is not None:
    filter_panel.panel(active)

# url_path = the file's stem: on its first run Streamlit still resolves the URL against the pages/
# folder by file name and would show "Page not found" for any other path.
pages = {tr("nav.diagnose"): [
    st.Page("pages/overview.py", title=tr("page.overview"), icon=":material/dashboard:", url_path="overview",
            default=True),
    st.Page("pages/process_map.py", title=tr("page.map"), icon=":material/account_tree:", url_path="process_map"),
    st.Page("pages/bottlenecks.py", title=tr("page.bottlenecks"), icon=":material/hourglass_bottom:",
            url_path="bottlenecks"),
    st.Page("pages/handoffs.py", title=tr("page.handoffs"), icon=":material/swap_horiz:", url_path="handoffs"),
    st.Page("pages/variants.py", title=tr("page.variants"), icon=":material/alt_route:", url_path="variants"),
    st.Page("pages/compare.py", title=tr("page.compare"), icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/process_model.py", title=tr("page.model"), icon=":material/schema:", url_path="process_model"),
], tr("nav.redesign"): [
    st.Page("pages/redesign.py", title=tr("page.redesign"), icon=":material/design_services:", url_path="redesign"),
    st.Page("pages/triage.py", title=tr("page.triage"), icon=":material/call_split:", url_path="triage"),
], tr("nav.share"): [
    st.Page("pages/knowledge.py", title=tr("page.knowledge"), icon=":material/menu_book:", url_path="knowledge"),
    st.Page("pages/report.py", title=tr("page.report"), icon=":material/summarize:", url_path="report"),
]}
if not state.viewer_mode():
    pages = {tr("nav.data"): [st.Page("pages/import_log.py", title=tr("page.import"), icon=":material/upload_file:",
                                      url_path="import_log")], **pages}
st.navigation(pages).run()
