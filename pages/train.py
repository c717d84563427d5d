"""Train: pick data, an experiment set-up, a detector and its hyperparameters, then start a run."""

import streamlit as st
import torch

from deepad import viewmodels as vm
from deepad.data.datasets import CATALOG, load_dataset
from deepad.data.setups import SetupConfig
from deepad.detectors import registry
from deepad.errors import DeepADError
from deepad.presets import load_presets
from pages import _ui as ui

ui.require_app(__file__)

ss = st.session_state
detectors = registry.all_detectors()

st.title("Train a detector")
st.caption("Choose what counts as normal, pick a method and its settings, and press **Start**. "
           "Training runs in the background on this server; you can leave the page and come back.")


def fill_form(config: dict, title: str = "") -> None:
    """Put a run config into the form's widgets (before they are drawn)."""
    ds = config.get("dataset", "mnist5k")
    setup = SetupConfig(**(config.get("setup") or {}))
    method = config.get("method", "deep-svdd")
    ss["train.dataset"], ss["train.method"] = ds, method
    ss[f"train.normal.{ds}"] = list(setup.normal)
    ss[f"train.anomaly.{ds}"] = list(setup.anomaly or [])
    ss[f"train.known.{ds}"] = int(setup.known_anomalies) if setup.known_anomalies >= 1 else 0
    ss[f"train.known_classes.{ds}"] = list(setup.known_classes or [])
    ss["train.known_normals"], ss["train.pollution"] = setup.known_normals, float(setup.pollution)
    ss["train.preprocess"] = setup.preprocess
    ss["train.seed"], ss["train.title"] = int(config.get("seed", 0)), title
    if method in detectors:
        params = detectors[method].Config(**(config.get("params") or {})).model_dump()
        for name, value in params.items():
            ss[f"train.p.{method}.{name}"] = value


def start(config: dict) -> None:
    """Validate, check the split can be made, start in the background, go to the live view."""
    problem = vm.check_split(config)
    if problem:
        st.error(problem)
        return
    try:
        run_id = ui.manager().start(config)
    except DeepADError as exc:
        st.error(str(exc))
        return
    ui.select_run(run_id)
    ui.projector().project_when_finished(ui.manager(), run_id)
    st.switch_page("pages/runs.py", query_params={"run": run_id})


# --- presets -----------------------------------------------------------------------------------
presets = load_presets()
groups = {"collapse": "Collapse lessons: each trigger and its fix", "papers": "The papers' set-ups"}
with st.expander("**One-click presets**: the collapse lessons and the papers' set-ups", expanded=True):
    st.caption("Each button starts a run at once (a minute or a few on a CPU) and fills the form below "
               "with its settings, so you can start a variant afterwards.")
    for group in sorted({p.group for p in presets.values()}, key=lambda g: (g not in groups, g)):
        st.markdown(f"**{groups.get(group, group.capitalize())}**")
        with st.container(horizontal=True):
            for p in sorted((p for p in presets.values() if p.group == group), key=lambda p: p.title):
                if st.button(p.title, key=f"preset.{p.name}", help=p.description):
                    fill_form(p.config, p.title)
                    start({**p.config, "title": p.title})

# --- data and set-up -----------------------------------------------------------------------------
st.subheader("1 · Data and what counts as normal")
names = list(CATALOG)
ss.setdefault("train.dataset", "mnist5k")
c1, c2 = st.columns([2, 3])
dataset = c1.selectbox("Dataset", names, key="train.dataset", format_func=lambda n: CATALOG[n].title)
info = CATALOG[dataset]
c2.caption(info.description + ("" if info.embedded else " Read from disk: not shipped with the app."))

try:
    classes = load_dataset(dataset).classes
except DeepADError as exc:
    st.error(f"**This dataset is not available here.** {exc}")
    st.stop()

class_ids = list(range(len(classes)))
fmt = lambda c: f"{c}: {classes[c]}" if classes[c] != str(c) else str(c)  # noqa: E731
ss.setdefault(f"train.normal.{dataset}", list(info.default_normal))
c1, c2 = st.columns(2)
normal = c1.multiselect("Normal class(es)", class_ids, key=f"train.normal.{dataset}", format_func=fmt,
                        help="One class: one-vs-all. Several: n-vs-m. Training sees only these "
                             "(plus any known anomalies and pollution below).")
anomaly_choices = [c for c in class_ids if c not in normal]
ss[f"train.anomaly.{dataset}"] = [c for c in ss.get(f"train.anomaly.{dataset}", []) if c in anomaly_choices]
anomaly = c2.multiselect("Anomaly classes at test", anomaly_choices, key=f"train.anomaly.{dataset}",
                         format_func=fmt, placeholder="every class that is not normal",
                         help="Leave empty to test against every other class.")
if not normal:
    st.warning("Pick at least one normal class.")

c1, c2, c3, c4 = st.columns(4)
ss.setdefault(f"train.known.{dataset}", 0)
known = c1.number_input("Known anomalies in training", min_value=0, max_value=5000, step=10,
                        key=f"train.known.{dataset}",
                        help="Labelled anomalies the method may use (Deep SAD). 0: unsupervised.")
known_from = anomaly or anomaly_choices
ss[f"train.known_classes.{dataset}"] = [c for c in ss.get(f"train.known_classes.{dataset}", [])
                                       if c in known_from]
known_classes = c2.multiselect("…drawn from classes", known_from, key=f"train.known_classes.{dataset}",
                               format_func=fmt, placeholder="any anomaly class", disabled=known == 0,
                               help="The other anomaly classes stay unseen in training: a test of "
                                    "generalisation to new kinds of anomalies.")
ss.setdefault("train.known_normals", 0)
known_normals = c3.number_input("Labelled normals", min_value=0, max_value=100000, step=10,
                                key="train.known_normals",
                                help="Normal training samples given the label 'normal' (Deep SAD).")
ss.setdefault("train.pollution", 0.0)
pollution = c4.slider("Pollution", 0.0, 0.5, step=0.01, key="train.pollution",
                      help="Share of unlabelled anomalies mixed into the training data, as in real "
                           "data that is never perfectly clean.")

with st.expander("More set-up options: preprocessing, seed, device"):
    c1, c2, c3 = st.columns(3)
    pre_choices = ["auto", "gcn", "unit", "standardize", "minmax"]
    ss.setdefault("train.preprocess", "auto")
    preprocess = c1.selectbox("Preprocessing", pre_choices, key="train.preprocess",
                              help="auto: the method's choice, else global contrast normalisation "
                                   "for images, standardisation otherwise. Fitted on training data only.")
    ss.setdefault("train.seed", 0)
    seed = c2.number_input("Seed", min_value=0, max_value=2 ** 31 - 1, step=1, key="train.seed",
                           help="The same seed gives the same split and the same training.")
    devices = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    ss.setdefault("train.device", "auto")
    device = c3.selectbox("Device", devices, key="train.device",
                          help="auto: the GPU when there is one, else the CPU.")

# --- method -----------------------------------------------------------------------------------
st.subheader("2 · Method and hyperparameters")
ss.setdefault("train.method", "deep-svdd" if "deep-svdd" in detectors else next(iter(detectors)))
if ss["train.method"] not in detectors:
    ss["train.method"] = next(iter(detectors))
c1, c2 = st.columns([2, 3])
method = c1.selectbox("Detector", list(detectors), key="train.method",
                      format_func=lambda n: detectors[n].title)
det_cls = detectors[method]
c2.caption(det_cls.summary)
if det_cls.needs_known_anomalies and known == 0:
    st.warning(f"{det_cls.title} learns from labelled anomalies: set **Known anomalies in training** "
               "above to at least 1.")
st.caption("Defaults follow the papers. Hover over the question marks for what a setting does; "
           "values outside the allowed range cannot be entered.")
values = ui.config_widgets(det_cls.Config, prefix=f"train.p.{method}")
params, param_error = vm.params_from_widgets(det_cls.Config, values)
if param_error:
    st.error(param_error)

# --- start -------------------------------------------------------------------------------------
st.subheader("3 · Start")
ss.setdefault("train.title", "")
title = st.text_input("Name (optional)", key="train.title", placeholder="e.g. bias on, no regularizer")
config = {"dataset": dataset, "method": method, "params": params or {}, "seed": int(seed),
          "device": device, "title": title,
          "setup": {"normal": normal, "anomaly": anomaly or None, "known_anomalies": int(known),
                    "known_classes": known_classes or None, "known_normals": int(known_normals),
                    "pollution": float(pollution), "preprocess": preprocess}}
blocked = (not normal or param_error is not None
           or (det_cls.needs_known_anomalies and known == 0))
if st.button("Start", type="primary", icon=":material/play_arrow:", disabled=blocked, key="start-run"):
    start(config)
if not blocked:
    with st.expander("The same run from a terminal"):
        try:
            st.code(vm.train_command(config), language="bash", wrap_lines=True)
        except (DeepADError, ValueError) as exc:
            st.caption(str(exc))
