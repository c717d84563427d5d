"""Explore: a sweep over one or two of α, β, k, ν and the learning rate, each given as a range
(min, max, steps, linear or log scale), trained by this server's workers or on Ray (a local
instance or a cluster). Its table and heatmap fill as trials finish; each trial opens as its run."""

import streamlit as st

from deepad.data.datasets import CATALOG, load_dataset
from deepad.data.setups import SetupConfig
from deepad.detectors import registry
from deepad.errors import DeepADError
from deepad.sweeps import check_address, count_trials, expand, new_sweep_id, ranges
from deepad.sweeps.launch import launcher
from pages import page_path
from pages.figures.training import grid_heatmap
from pages.ui.current import select_run
from pages.ui.live import LIVE_REFRESH_S, live_fragment
from pages.ui.singletons import all_runs, manager, projector, store
from pages.ui.widgets import config_widgets
from pages.views.common import is_live
from pages.views.explore import GRID_METRICS, explorable_fields, explore_grids, grid_frame, suggested_range
from pages.views.forms import field_label, params_from_widgets

ss = st.session_state
ENGINES = {"server": "this server's workers", "ray-local": "Ray on this machine", "ray": "a Ray cluster"}
MAX_TRIALS = {"server": 36, "ray-local": 200, "ray": 1000}


st.title("Explore hyperparameters")
st.caption("Sweep one or two hyperparameters over a range. Every combination is a run; this server "
           "trains them one after another, or Ray trains many at once (on this machine or a cluster). "
           "The table and heatmap fill in as they finish.")

detectors = {n: s for n, s in registry.specs().items() if s.explorable}
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
    ss.setdefault("explore.method", registry.DEFAULT_METHOD if registry.DEFAULT_METHOD in detectors
                  else next(iter(detectors)))
    if ss["explore.method"] not in detectors:
        ss["explore.method"] = next(iter(detectors))
    method = c3.selectbox("Detector", list(detectors), key="explore.method",
                          format_func=lambda n: detectors[n].title)
    det_cls = detectors[method]
    epoch_fields = [n for n, f in det_cls.Config.model_fields.items() if n.endswith("epochs") and f.annotation is int]
    quick = {n: min(det_cls.Config.model_fields[n].default, 10) for n in epoch_fields}
    with st.expander("Hyperparameters of the base run", expanded=False):
        st.caption("Epochs are kept short here so a grid finishes in minutes; raise them if you can wait.")
        st.caption("A setting that cannot matter for the others (or for this set-up: no labelled samples) "
                   "is greyed out with the reason.")
        values = config_widgets(det_cls.Config, prefix=f"explore.p.{method}", defaults=quick,
                                   facts={"labelled": False})  # the base run's set-up: one normal class, unlabelled
    base_params, param_error = params_from_widgets(det_cls.Config, values)
    if param_error:
        st.error(param_error)


def axis_controls(name: str) -> tuple[list, str | None]:
    """Range slider, steps and scale for one axis -> (its values, a problem or None)."""
    cfg = det_cls.Config
    ticks = ranges.ticks(cfg, name)
    key = f"explore.range.{method}.{name}"
    saved = ss.get(f"{key}.saved")  # a range slider needs its value passed: kept here across pages
    if not (isinstance(saved, tuple) and set(saved) <= set(ticks)):
        lo, hi = suggested_range(method, name) or (ticks[0], ticks[-1])
        saved = (min(ticks, key=lambda t: abs(t - lo)), min(ticks, key=lambda t: abs(t - hi)))
    lo, hi = st.select_slider(f"range of {name}: min and max", options=ticks, value=saved,
                              key=f"explore_range.{method}.{name}", format_func=lambda v: f"{v:g}")
    ss[f"{key}.saved"] = (lo, hi)
    s1, s2 = st.columns(2)
    steps = s1.number_input("steps", min_value=1, max_value=ranges.MAX_STEPS, value=3, key=f"{key}.steps")
    scale = s2.radio("scale", ranges.SCALES, index=ranges.SCALES.index(ranges.default_scale(cfg, name)),
                     key=f"{key}.scale", horizontal=True)
    vals, err = ranges.range_values(lo, hi, int(steps), scale, ranges.is_integer(cfg, name))
    st.caption(cfg.model_fields[name].description or "")
    if err:
        return [], err
    st.markdown("values: " + ", ".join(f"`{v:g}`" for v in vals))
    return vals, None


with st.container(border=True):
    st.markdown("**2 · What to vary**: one or two hyperparameters, each over a range.")
    fields = explorable_fields(method)
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
                                format_func=lambda n: n if n == "(none)" else field_label(
                                    n, det_cls.Config.model_fields[n].description or ""))
            if name == "(none)" or name in axes:
                continue
            vals, err = axis_controls(name)
            why_not = ranges.irrelevant(det_cls.Config, name, base_params or {}, {"labelled": False})
            for problem in (err, why_not):
                if problem:
                    st.error(problem)
                    errors.append(problem)
            if not err:
                axes[name] = vals
    ss.setdefault("explore.seeds", 1)
    n_seeds = st.number_input("seeds per setting (each a run; the heatmap shows their mean)", min_value=1,
                              max_value=5, key="explore.seeds")

with st.container(border=True):
    st.markdown("**3 · Where it runs**")
    ss.setdefault("explore.engine", "server")
    engine = st.radio("Train the runs on", list(ENGINES), key="explore.engine", format_func=ENGINES.get,
                      horizontal=True)
    address = None
    if engine == "ray":
        address = st.text_input("Ray cluster address (HOST:PORT, as `ray start --head` prints it)",
                                key="explore.ray_address").strip()
        st.caption("Runs come back to this server's runs folder with their full records, whether or not "
                   "the cluster's machines share a disk with it.")
    elif engine == "ray-local":
        st.caption("Starts a Ray instance sized to this machine for the sweep (a few seconds) and stops it "
                   "afterwards; the runs train side by side, one CPU each.")
    else:
        st.caption("The server trains the runs one after another in the background.")
    sweep_axes = {**axes, **({"seed": list(range(int(n_seeds)))} if n_seeds > 1 else {})}
    n_runs = count_trials(sweep_axes)
    blocked = bool(errors) or param_error is not None or not axes or n_runs > MAX_TRIALS[engine]
    if n_runs > MAX_TRIALS[engine]:
        st.warning(f"{n_runs} runs is a lot for {ENGINES[engine]}; keep it to {MAX_TRIALS[engine]} or fewer"
                   + (" (the command line's `python -m deepad sweep` takes larger grids)." if engine != "ray"
                      else "."))
    if engine == "ray" and not address:
        blocked = True
    if st.button(f"Launch {n_runs} run(s)", type="primary", disabled=blocked, icon=":material/play_arrow:",
                 key="launch-grid"):
        sweep_id = new_sweep_id()
        base = {"dataset": dataset, "method": method, "params": base_params, "setup": {"normal": [normal]}}
        configs = expand(base, sweep_axes, sweep_id, det_cls.Config.model_fields, SetupConfig.model_fields)
        try:
            if engine == "server":
                for cfg in configs:
                    run_id = manager().start(cfg)
                    projector().project_when_finished(manager(), run_id)
            else:
                from deepad.sweeps.runs import create_runs, validate_all

                if address:
                    check_address(address)
                trials = create_runs(validate_all(configs), store())
                launcher().start(sweep_id, [r.run_id for r, _ in trials], store(), address=address or None)
        except DeepADError as exc:
            st.error(str(exc))
        else:
            ss["explore.grid"] = sweep_id
            st.toast(f"Sweep {sweep_id}: {len(configs)} runs on {ENGINES[engine]}.")


def open_run(run_id: str) -> None:
    select_run(run_id)
    st.switch_page(page_path("runs"), query_params={"run": run_id})


def grid_results(grid_id: str) -> None:
    grids = explore_grids(all_runs())
    g = grids.get(grid_id)
    if g is None:
        st.warning("This sweep's runs are gone (deleted?).")
        return
    df = grid_frame(g["runs"], g["axes"])
    ended = int(df["state"].isin(["finished", "failed", "cancelled", "interrupted"]).sum())
    failed = int((df["state"] != "finished").sum()) - (len(df) - ended)
    planned = max(g.get("trials") or 0, len(df))
    st.progress(ended / max(1, planned),
                text=f"{ended} of {planned} runs ended" + (f", {failed} not finished" if failed else ""))
    metric = st.radio("Heatmap shows", list(GRID_METRICS), key=f"explore.metric.{grid_id}", horizontal=True)
    st.caption(f"Shown: {GRID_METRICS[metric]}. Greener is better (0.5 is chance); each cell also names "
               "the collapse verdict: a high learning rate or a weak regularizer often shows up as 'collapsed'.")
    heat_axes = [a for a in g["axes"] if a != "seed"] or g["axes"]
    picked = st.plotly_chart(grid_heatmap(df, heat_axes, metric), key=f"explore.heat.{grid_id}",
                             on_select="rerun", selection_mode="points")
    points = (picked or {}).get("selection", {}).get("points", []) if isinstance(picked, dict) else []
    if points and points[0].get("customdata"):
        open_run(points[0]["customdata"])
    table = st.dataframe(df, hide_index=True, on_select="rerun", selection_mode="single-row",
                         key=f"explore.table.{grid_id}",
                         column_config={c: st.column_config.NumberColumn(format="%.3f")
                                        for c in ("val AUC", "test AUC")})
    rows = table.selection.rows if table is not None and hasattr(table, "selection") else []
    c1, c2 = st.columns([3, 1])
    labels = {r: ", ".join(f"{a}={row[a]}" for a in g["axes"]) + f" ({row['state']})"
              for r, row in zip(df["run"], df.to_dict("records"))}
    if rows:
        ss[f"explore.open.{grid_id}"] = df["run"].iloc[rows[0]]
    choice = c1.selectbox("Open a trial's run", list(labels), format_func=labels.get, key=f"explore.open.{grid_id}")
    if c2.button("Open run", key=f"explore-go.{grid_id}", icon=":material/open_in_new:") and choice:
        open_run(choice)
    live = any(is_live(r) for r in g["runs"])
    proc = launcher().get(grid_id)
    if live and st.button("Stop this sweep", key=f"explore-stop.{grid_id}", icon=":material/stop:"):
        if proc is not None:
            proc.cancel()
        for r in g["runs"]:
            if is_live(r):
                manager().cancel(r.run_id)
        st.toast("Stopping: runs not started are cancelled, running ones stop and keep their records.")
    if proc is not None and not proc.running() and proc.proc.returncode not in (0, 1, 130):
        st.error(f"The sweep's process ended with exit status {proc.proc.returncode}: {proc.log_tail(3)}")


st.subheader("4 · Results")
grids = explore_grids(all_runs())
if not grids:
    st.info("No sweep yet: launch one above.")
    st.stop()
ids = list(grids)
if ss.get("explore.grid") not in ids:
    ss["explore.grid"] = ids[0]
gid = st.selectbox("Sweep", ids, key="explore.grid",
                   format_func=lambda i: f"{' × '.join(grids[i]['axes'])}: {len(grids[i]['runs'])} runs "
                                         f"of {grids[i]['runs'][0].config.get('method')} ({i})")


def sweep_refresh(grid_id: str) -> float | None:
    """Look again while a run of the sweep is queued or training."""
    grid = explore_grids(all_runs()).get(grid_id)
    return LIVE_REFRESH_S if grid is not None and any(is_live(r) for r in grid["runs"]) else None


live_fragment(grid_results, gid, every=sweep_refresh)
