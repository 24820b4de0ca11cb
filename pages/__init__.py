"""The dashboard's pages, run by app.py through st.navigation, and the modules they share: `state` (language,
active log and filter, the page header) and `cache` (the store connection and every cached analysis call)."""

from streamlit.runtime.pages_manager import PagesManager

# The project's layout names this folder pages/, which makes Streamlit treat the app as a legacy
# multipage app (each file a page of its own, run without app.py) until app.py's st.navigation has
# run once in the server. A page opened by its own address on a fresh server would then run alone.
# Every page imports this package first; from then on every run goes through app.py.
PagesManager.uses_pages_directory = False
