"""Papers: each paper's headline comparison as `python -m deepad reproduce PAPER` left it in this
runs folder: ours (mean ± std over classes and seeds) beside the paper's figure, whether the
paper's direction held, the paired wins, the command that made it, and links to the runs."""

import pandas as pd
import streamlit as st

from deepad.reproduce import read_reproductions
from pages import page_path
from pages.ui.current import select_run
from pages.ui.look import esc
from pages.ui.singletons import store

st.title("Papers")
st.caption("Each paper's headline comparison rerun with its baselines on one split per (class, seed): "
           "every arm sees the same training, validation and test samples. Made by "
           "`python -m deepad reproduce PAPER` (000 … 004, or the first author or method: chong, r2ad2, …); "
           "the newest reproduction of each paper is "
           "shown first. A direction holds when the row's mean test AUC is above each row the paper says "
           "it beats; paired wins count the (class, seed) cases where it is.")

try:
    found = read_reproductions(store().root)
except OSError as exc:
    st.error(esc(f"The runs folder cannot be read ({exc})."))
    found = []
if not found:
    st.info("No reproduction in this runs folder yet. Run, for instance, "
            "`python -m deepad reproduce 000 --classes 0,1,2 --seeds 0,1,2` (add `--dry-run` to list its "
            "trials first); its table appears here.")
    st.stop()


def _ours(r: dict) -> str:
    if r.get("mean") is None:
        return "failed"
    return f"{r['mean']:.3f}" + (f" ± {r['std']:.3f}" if r.get("std") is not None else "")


def _paper(v) -> str:
    return "—" if v is None else (f"{v:.3f}" if isinstance(v, (int, float)) else str(v))


for paper in sorted({r["paper"] for r in found}):
    recs = [r for r in found if r["paper"] == paper]
    rec = recs[0]
    with st.container(border=True):
        st.subheader(f"{esc(rec.get('title') or 'paper ' + paper)} (reproduce {esc(paper)})")
        if rec.get("note"):
            st.caption(esc(rec["note"]))
        if len(recs) > 1:
            pick = st.selectbox("Reproduction", range(len(recs)), key=f"papers.pick.{paper}",
                                format_func=lambda i: f"{recs[i].get('created', '')} · {recs[i].get('id', '')}")
            rec = recs[pick]
        st.code(str(rec.get("command", "")), language="bash")
        st.caption(esc(f"dataset {rec.get('dataset')}, checkpoint {rec.get('checkpoint')}, seeds "
                          f"{rec.get('seeds')}" + (" — quick recipes: a smoke test, not a result" if rec.get("quick") else "")))
        rows = [r for r in rec["rows"] if isinstance(r, dict)]
        df = pd.DataFrame({
            "row": [str(r.get("row", "")) for r in rows],
            "ours (test AUC)": [_ours(r) for r in rows],
            "n": [r.get("n") for r in rows],
            "paper": [_paper(r.get("paper_value")) for r in rows],
            "paper's direction": [r.get("direction") or "—" for r in rows],
            "holds": ["—" if r.get("holds") is None else ("yes" if r["holds"] else "no") for r in rows],
            "paired wins": [", ".join(f"{v} vs {k}" for k, v in (r.get("wins") or {}).items()) or "—" for r in rows],
        })
        st.dataframe(df, hide_index=True)
        runs = {str(i): f"{r.get('row')} · {i}" for r in rows for i in (r.get("runs") or [])}
        if runs:
            c1, c2 = st.columns([3, 1])
            choice = c1.selectbox("Open one of its runs", list(runs), format_func=runs.get,
                                  key=f"papers.run.{rec.get('id')}")
            if c2.button("Open run", key=f"papers.go.{rec.get('id')}", icon=":material/open_in_new:") and choice:
                select_run(choice)
                st.switch_page(page_path("runs"), query_params={"run": choice})
