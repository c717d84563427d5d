"""Train: pick data, an experiment set-up, a detector and its hyperparameters, then start a run.
The presets and lessons are drawn by `pages.ui.train_presets`, the upload and image alterations by
`pages.ui.train_data`."""

import streamlit as st
import torch

from deepad.cli import train_command
from deepad.data.datasets import CATALOG, load_dataset
from deepad.detectors import registry
from deepad.errors import DeepADError
from pages.ui.look import esc, sidebar_top
from pages.ui.train_data import ALTERATIONS, alteration_previews, other_alteration, param_widget, upload_section
from pages.ui.train_presets import preset_panel, start
from pages.ui.widgets import grouped_config_widgets, reset_config_widgets, setup_widget
from pages.views.train import (ALTERATION_LABELS, REQUIREMENT_WORDS, alteration_setup, method_setup, setup_problem,
                               unmet_requirements)

ss = st.session_state
detectors = registry.specs()

st.title("Train a detector")
st.caption("Choose what counts as normal, pick a method and its settings, and press **Start**. "
           "Training runs in the background on this server; you can leave the page and come back.")

preset_panel()

# --- data and set-up -----------------------------------------------------------------------------
st.subheader("1 · Data and what counts as normal")
ss.setdefault("train.source", "built-in")
source = st.radio("Data", ["built-in", "upload"], key="train.source", horizontal=True,
                  format_func=lambda s: {"built-in": "A built-in dataset", "upload": "Your own file"}[s])
if source == "upload":
    dataset, ds = upload_section()
    default_normal = [0]
else:
    names = list(CATALOG)
    ss.setdefault("train.dataset", "mnist5k")
    c1, c2 = st.columns([2, 3])
    dataset = c1.selectbox("Dataset", names, key="train.dataset", format_func=lambda n: CATALOG[n].title)
    info = CATALOG[dataset]
    c2.caption(info.description + ("" if info.embedded else " Read from disk: not shipped with the app."))
    try:
        ds = load_dataset(dataset)
    except DeepADError as exc:
        st.error(f"**This dataset is not available here.** {esc(exc)}")
        st.stop()
    default_normal = list(info.default_normal)
classes = ds.classes

class_ids = list(range(len(classes)))
fmt = lambda c: f"{c}: {classes[c]}" if classes[c] != str(c) else str(c)  # noqa: E731
alteration, alt_param = "none", None
if ds.kind == "image":
    ss.setdefault("train.alteration", "none")
    c1, c2 = st.columns([2, 3])
    with c1:
        alteration = setup_widget("alteration", "train.alteration", options=ALTERATIONS, label="Anomalies",
                                  format_func=ALTERATION_LABELS.get)
    if alteration != "none":
        alt_param = param_widget(alteration, f"train.alt_param.{alteration}", ds.input_shape, c2)
ss.setdefault(f"train.normal.{dataset}", [c for c in default_normal if c in class_ids] or [0])
c1, c2 = st.columns(2)
if alteration in ("block-permutation", "strokes"):
    normal = class_ids
    ss[f"train.normal_all.{dataset}"] = class_ids
    with c1:  # block permutation and strokes pool every class as normal
        setup_widget("normal", f"train.normal_all.{dataset}", options=class_ids, format_func=fmt, disabled=True)
else:
    with c1:
        normal = setup_widget("normal", f"train.normal.{dataset}", options=class_ids, format_func=fmt,
                              label="Normal label value(s)" if source == "upload" else None)
anomaly_choices = [c for c in class_ids if c not in normal]
if alteration == "none":
    ss[f"train.anomaly.{dataset}"] = [c for c in ss.get(f"train.anomaly.{dataset}", []) if c in anomaly_choices]
    with c2:
        anomaly = setup_widget("anomaly", f"train.anomaly.{dataset}", options=anomaly_choices, format_func=fmt,
                               placeholder="every class that is not normal")
else:
    anomaly = []
    c2.caption(f"**Anomalies at test:** one altered copy ({alteration}) of each normal validation and "
               "test image (see the preview below).")
if not normal:
    st.warning("Pick at least one normal class.")

c1, c2, c3, c4 = st.columns(4)
ss.setdefault(f"train.known.{dataset}", 0)
with c1:  # asked for as a count: a method's ratio becomes the count it draws (`method_setup`)
    known = setup_widget("known_anomalies", f"train.known.{dataset}", count_step=10)
train_alt = None
known_classes = []
if alteration == "none":
    known_from = anomaly or anomaly_choices
    ss[f"train.known_classes.{dataset}"] = [c for c in ss.get(f"train.known_classes.{dataset}", [])
                                           if c in known_from]
    with c2:
        known_classes = setup_widget("known_classes", f"train.known_classes.{dataset}", options=known_from,
                                     format_func=fmt, placeholder="any anomaly class", disabled=not known)
else:
    train_alt = other_alteration(
        "…made with", "train.train_alt", ds.input_shape, c2, disabled=not known,
        help_="Chong et al.'s Table VI: known anomalies made with one alteration, test anomalies with "
              "another, to see whether what was learnt carries over.")
with c3:
    known_normals = setup_widget("known_normals", "train.known_normals")
with c4:
    pollution = setup_widget("pollution", "train.pollution")

with st.expander("More set-up options: preprocessing, seed, device"):
    c1, c2, c3 = st.columns(3)
    with c1:
        preprocess = setup_widget("preprocess", "train.preprocess")
    ss.setdefault("train.seed", 0)
    seed = c2.number_input("Seed", value=None, step=1, key="train.seed", placeholder="a whole number, 0 or more",
                           help="The same seed gives the same split and the same training.")
    devices = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    ss.setdefault("train.device", "auto")
    device = c3.selectbox("Device", devices, key="train.device",
                          help="auto: the GPU when there is one, else the CPU.")
    ss.setdefault("train.test_share", None)
    with c1:
        test_share = setup_widget("test_anomaly_share", "train.test_share", options=[None, 0.05, 0.1, 0.2, 0.5, 0.9],
                                  format_func=lambda v: "all test samples, as drawn" if v is None else f"{100 * v:g} %")
    val_alt = None
    if alteration != "none":
        val_alt = other_alteration("Validation anomalies made with", "train.val_alt", ds.input_shape, c1,
                                   help_="The anomalies of the validation part (validation AUC while "
                                         "training); by default the test alteration.")

setup = {"normal": normal, "anomaly": anomaly or None, "known_anomalies": known,
         "known_classes": known_classes or None, "known_normals": known_normals,
         "pollution": float(pollution), "preprocess": preprocess, "test_anomaly_share": test_share}
setup = alteration_setup(setup, alteration, alt_param, len(classes), train=train_alt, val=val_alt)
setup_error = setup_problem(setup, ds, seed) if normal else None
if setup_error:
    st.error(esc(setup_error))
elif alteration != "none":
    parts = [("test", "Test anomalies")]
    if train_alt is not None and known:
        parts.append(("train", "Known training anomalies"))
    if val_alt is not None:
        parts.append(("val", "Validation anomalies"))
    alteration_previews(dataset, setup, seed, parts)


def fill_method_setup(dataset: str, class_labels, normal: list[int]) -> None:
    """Choosing a method fills in its paper's set-up values (known anomalies, known normals,
    pollution, the test set's anomaly share)."""
    values = method_setup(ss["train.method"], None, class_labels, normal)
    ss[f"train.known.{dataset}"] = int(values["known_anomalies"])
    ss["train.known_normals"], ss["train.pollution"] = values["known_normals"], float(values["pollution"])
    ss["train.test_share"] = values["test_anomaly_share"]


# --- method -----------------------------------------------------------------------------------
st.subheader("2 · Method and its settings")
ss.setdefault("train.method", registry.default_method())
if ss["train.method"] not in detectors:
    ss["train.method"] = next(iter(detectors))
c1, c2, c3 = st.columns([2, 3, 1], vertical_alignment="bottom")
method = c1.selectbox("Detector", list(detectors), key="train.method",
                      format_func=lambda n: detectors[n].title, on_change=fill_method_setup,
                      args=(dataset, ds.y, normal),
                      help="Choosing a method fills in the set-up its paper uses (known anomalies, "
                           "labelled normals, pollution, test set) above.")
det_cls = detectors[method]
c2.caption(det_cls.summary)
prefix = f"train.p.{method}"
c3.button("Reset to defaults", key="reset-params", icon=":material/restart_alt:",
          on_click=reset_config_widgets, args=(det_cls.Config, prefix),
          help="Put every setting of this method back to its default (the papers' choices).")
st.caption("The settings a lesson varies come first; the rest are under **Advanced**. Hover over a "
           "question mark for what a setting does and which values it takes; a setting that cannot "
           "matter for the current choices is greyed out with the reason.")
params, param_errors = grouped_config_widgets(det_cls.Config, prefix,
                                                 facts={"labelled": bool(known or known_normals)})
unmet = unmet_requirements(method, setup, params) if params is not None else []
for field, need in unmet:
    st.warning(f"{det_cls.title} learns from {need} {REQUIREMENT_WORDS[field][1]}: set "
               f"**{REQUIREMENT_WORDS[field][0]}** above to at least {need}.")

# --- start (in the sidebar, always in view) ------------------------------------------------------
ss.setdefault("train.title", "")
problems = []
if not normal:
    problems.append("pick at least one normal class")
if setup_error:
    problems.append(setup_error)
problems += [f"{det_cls.title} needs at least {need} {REQUIREMENT_WORDS[field][1]}" for field, need in unmet]
problems += list(param_errors.values())
config = {"dataset": dataset, "method": method, "params": params or {}, "seed": seed,
          "device": device, "title": ss["train.title"], "setup": setup}
with sidebar_top():  # right under the navigation: in view at 1280×800 and in presenter mode
    config["title"] = ss["train.title"]
    if st.button("Start", type="primary", icon=":material/play_arrow:", disabled=bool(problems),
                 key="start-run", use_container_width=True):
        start(config)
    st.caption(f"{det_cls.title} on {dataset if not dataset.startswith('file:') else 'your file'}; "
               "it trains in the background on this server.")
    if problems:
        st.error("Start is blocked until this is fixed:\n\n" + "\n".join(f"- {esc(p)}" for p in problems),
                 icon=":material/block:")
    st.text_input("Name of the run (optional)", key="train.title", placeholder="e.g. bias on, no regularizer")
    st.divider()
if not problems:
    with st.expander("The same run from a terminal"):
        try:
            st.code(train_command(config), language="bash", wrap_lines=True)
        except (DeepADError, ValueError) as exc:
            st.caption(esc(exc))

