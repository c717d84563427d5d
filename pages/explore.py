"""Explore: a small grid over one or two of α, β, k, ν and the learning rate, trained as queued
background runs, with a table and a heatmap of AUC and collapse as they finish."""

import streamlit as st

from deepad import figures
from deepad import viewmodels as vm
from deepad.data.datasets import CATALOG, load_dataset
from deepad.detectors import registry
from deepad.errors import DeepADError
from pages import _ui as ui

ui.require_app(__file__)

ss = st.session_state
st.title("Explore hyperparameters")
st.caption("Try a few values of one or two hyperparameters at once. Every combination becomes a run; "
           "they queue and train one after another in the background, and the table and heatmap "
           "fill in as they finish.")

SUGGESTED = {"alpha": "0.1, 0.5, 0.9", "beta": "0.1, 0.5, 1.0", "k": "10, 50, 200",
             "nu": "0.05, 0.1, 0.2", "lr": "0.0001, 0.001, 0.01"}
detectors = {n: c for n, c in registry.all_detectors().items() if vm.explorable_fields(c.Config)}
if not detectors:
    st.info("No detector has any of α, β, k, ν or a learning rate to explore.")
    st.stop()

with st.container(border=True):
    st.markdown("**1 · The base run**: every grid point starts from these settings.")
    c1, c2, c3 = st.columns(3)
    embedded = [n for n, i in CATALOG.items() if i.embedded]
    ss.setdefault("explore.dataset", "mnist5k" if "mnist5k" in embedded else embedded[0])
    dataset = c1.selectbox("Dataset", embedded, key="explore.dataset", format_func=lambda n: CATALOG[n].title)
    try:
        classes = load_dataset(dataset).classes
    except DeepADError as exc:
        st.error(str(exc))
        st.stop()
    ss.setdefault(f"explore.normal.{dataset}", CATALOG[dataset].default_normal[0])
    normal = c2.selectbox("Normal class", list(range(len(classes))), key=f"explore.normal.{dataset}",
                          format_func=lambda c: classes[c])
    ss.setdefault("explore.method", "deep-svdd" if "deep-svdd" in detectors else next(iter(detectors)))
    if ss["explore.method"] not in detectors:
        ss["explore.method"] = next(iter(detectors))
    method = c3.selectbox("Detector", list(detectors), key="explore.method",
                          format_func=lambda n: detectors[n].title)
    det_cls = detectors[method]
    epoch_fields = [n for n, f in det_cls.Config.model_fields.items() if n.endswith("epochs") and f.annotation is int]
    quick = {n: min(det_cls.Config.model_fields[n].default, 10) for n in epoch_fields}
    with st.expander("Hyperparameters of the base run", expanded=False):
        st.caption("Epochs are kept short here so a grid finishes in minutes; raise them if you can wait.")
        values = ui.config_widgets(det_cls.Config, prefix=f"explore.p.{method}", defaults=quick)
    base_params, param_error = vm.params_from_widgets(det_cls.Config, values)
    if param_error:
        st.error(param_error)

with st.container(border=True):
    st.markdown("**2 · What to vary**: one or two hyperparameters, a few values each.")
    fields = vm.explorable_fields(det_cls.Config)
    c1, c2 = st.columns(2)
    axes: dict[str, list] = {}
    errors = []
    for col, slot, choices in ((c1, "a", fields), (c2, "b", ["(none)"] + fields)):
        with col:
            key = f"explore.axis.{slot}.{method}"
            if ss.get(key) not in choices:
                ss[key] = ("lr" if "lr" in choices else choices[0]) if slot == "a" else "(none)"
            name = st.selectbox("First hyperparameter" if slot == "a" else "Second hyperparameter (optional)",
                                choices, key=key,
                                format_func=lambda n: n if n == "(none)" else vm.field_label(
                                    n, det_cls.Config.model_fields[n].description or ""))
            if name == "(none)" or name in axes:
                continue
            vkey = f"explore.values.{method}.{name}"
            ss.setdefault(vkey, SUGGESTED.get(name, str(det_cls.Config.model_fields[name].default)))
            text = st.text_input(f"values of {name}, separated by commas", key=vkey)
            st.caption(det_cls.Config.model_fields[name].description or "")
            vals, err = vm.parse_values(det_cls.Config, name, text)
            if err:
                st.error(err)
                errors.append(err)
            else:
                axes[name] = vals
    n_runs = 1
    for v in axes.values():
        n_runs *= len(v)
    blocked = bool(errors) or param_error is not None or not axes or n_runs > 36
    if n_runs > 36:
        st.warning(f"{n_runs} runs is a lot for one grid; keep it to 36 or fewer.")
    if st.button(f"Launch {n_runs} run(s)", type="primary", disabled=blocked, icon=":material/play_arrow:",
                 key="launch-grid"):
        gid = vm.new_grid_id()
        base = {"dataset": dataset, "method": method, "params": base_params, "setup": {"normal": [normal]}}
        started, failed = [], []
        for cfg in vm.grid_configs(base, axes, gid):
            try:
                started.append(ui.manager().start(cfg))
            except DeepADError as exc:
                failed.append(str(exc))
        for run_id in started:
            ui.projector().project_when_finished(ui.manager(), run_id)
        ss["explore.grid"] = gid
        if failed:
            st.error("Some runs could not start: " + "; ".join(sorted(set(failed))))
        st.toast(f"Queued {len(started)} runs.")


def grid_results(grid_id: str) -> None:
    grids = vm.explore_grids(ui.store().list())
    g = grids.get(grid_id)
    if g is None:
        st.warning("This grid's runs are gone (deleted?).")
        return
    df = vm.grid_frame(g["runs"], g["axes"])
    done = int((df["state"] == "finished").sum())
    st.progress(done / max(1, len(df)), text=f"{done} of {len(df)} runs finished")
    left, right = st.columns([2, 3])
    with left:
        st.dataframe(df, hide_index=True, column_config={"AUC": st.column_config.NumberColumn(format="%.3f")})
    with right:
        st.plotly_chart(figures.grid_heatmap(df, g["axes"]), key=f"explore.heat.{grid_id}")
    st.caption("Greener is a better test AUC (0.5 is chance). Each cell also names the collapse "
               "verdict: a high learning rate or a weak regularizer often shows up as 'collapsed'.")
    live = any(vm.is_live(r) for r in g["runs"])
    seen = st.session_state.setdefault("_explore_live_seen", {})
    if seen.get(grid_id) and not live:  # the last run just ended: stop polling
        seen[grid_id] = False
        st.rerun()
    seen[grid_id] = live


st.subheader("3 · Results")
grids = vm.explore_grids(ui.store().list())
if not grids:
    st.info("No grid yet: launch one above.")
    st.stop()
ids = list(grids)
if ss.get("explore.grid") not in ids:
    ss["explore.grid"] = ids[0]
gid = st.selectbox("Grid", ids, key="explore.grid",
                   format_func=lambda i: f"{' × '.join(grids[i]['axes'])}: {len(grids[i]['runs'])} runs "
                                         f"of {grids[i]['runs'][0].config.get('method')} ({i})")
live = any(vm.is_live(r) for r in grids[gid]["runs"])
st.fragment(grid_results, run_every=2.0 if live else None)(gid)
