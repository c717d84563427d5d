"""DeepAD Studio: a first page listing datasets, detectors and saved runs."""

import pandas as pd
import streamlit as st

from deepad.data.datasets import CATALOG
from deepad.detectors import registry
from deepad.store import RunStore

st.set_page_config(page_title="DeepAD Studio", layout="wide")
st.title("DeepAD Studio")
st.caption("See how deep one-class and semi-supervised anomaly detectors behave.")

st.subheader("Datasets")
st.dataframe(pd.DataFrame([{"name": i.name, "title": i.title, "kind": i.kind,
                            "embedded": i.embedded, "description": i.description}
                           for i in CATALOG.values()]), hide_index=True)
st.subheader("Detectors")
st.dataframe(pd.DataFrame([{"method": n, "title": c.title, "summary": c.summary}
                           for n, c in registry.all_detectors().items()]), hide_index=True)
st.subheader("Runs")
store = RunStore()
runs = store.list()
if not runs:
    st.info(f"No runs yet in {store.root}. Train one with `python -m deepad train`.")
else:
    st.dataframe(pd.DataFrame([{"run": r.run_id, "state": r.state, "method": r.config.get("method"),
                                "dataset": r.config.get("dataset"), "auc": r.summary.get("auc"),
                                "verdict": r.summary.get("verdict")} for r in runs]), hide_index=True)
