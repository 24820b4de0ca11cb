"""Placeholder until the page lands."""

from __future__ import annotations

import streamlit as st

from pages import common
from pages.common import tr

common.require_shell()
st.title(tr("page.report"))
