"""Process model: the inductive miner's model of the kept cases as BPMN, its fitness, and BPMN/PNML/DOT downloads."""

from __future__ import annotations

import streamlit as st

from analysis import process_model
from pages import cache
from pages.state import page_header, tr

log_id, flt = page_header("md.title")

noise = st.slider(tr("md.noise"), 0.0, 0.5, 0.2, step=0.05, format="%.2f", key="md_noise", help=tr("md.noise_help"))
with st.spinner(tr("md.mining")):
    model = cache.discover_model(log_id, noise, flt)
if model is None:
    st.warning(tr("md.empty"))
    st.stop()
fitness = cache.replay_fitness(log_id, model, flt)

gateways = sum(1 for n in model.nodes if n.kind in ("xor", "and", "or"))
left, right = st.columns(2)
left.metric(tr("md.fitness"), f"{fitness.log_fitness:.2%}", help=tr("md.fitness_help"))
right.metric(tr("md.fitting"), f"{fitness.fitting_share:.1%}", help=tr("md.fitting_help"),
             delta=tr("md.fitting_cases", fitting=fitness.fitting_cases, cases=fitness.cases), delta_color="off")
st.caption(tr("md.caption", cases=model.cases, variants=model.variants, tasks=len(model.tasks), gateways=gateways))
dot = process_model.to_dot(model)
st.graphviz_chart(dot)  # drawn in the browser: no Graphviz binary needed

down1, down2, down3 = st.columns(3)
down1.download_button(tr("md.download_bpmn"), model.bpmn_xml, file_name="process_model.bpmn",
                      mime="application/xml", key="md_bpmn")
down2.download_button(tr("md.download_pnml"), model.pnml, file_name="process_model.pnml",
                      mime="application/xml", key="md_pnml")
down3.download_button(tr("md.download_dot"), dot, file_name="process_model.dot", mime="text/vnd.graphviz",
                      key="md_dot")
