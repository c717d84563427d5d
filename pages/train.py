"""Train: pick data, an experiment set-up, a detector and its hyperparameters, then start a run."""

import json

import streamlit as st
import torch

from deepad import views as vm
from deepad.cli import train_command
from deepad.data.datasets import CATALOG, load_dataset
from deepad.data.setups import SetupConfig
from deepad.detectors import registry
from deepad.errors import DeepADError
from deepad.presets import lessons, load_presets
from pages import _ui as ui

ui.require_app(__file__)

ss = st.session_state
detectors = registry.specs()

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
    ss["train.test_share"] = setup.test_anomaly_share
    ss["train.preprocess"] = setup.preprocess
    ss["train.source"] = "upload" if ds.startswith("file:") else "built-in"
    ss["train.alteration"] = setup.alteration
    plan = setup.alteration_plan()
    if plan:
        ss[f"train.alt_param.{setup.alteration}"] = plan["test"][1]
        for part, field in (("train", "train_alteration"), ("val", "val_alteration")):
            kind = getattr(setup, field)
            ss[f"train.{part}_alt"] = kind or "same"
            if kind:
                ss[f"train.{part}_alt.param.{kind}"] = plan[part][1]
    ss["train.seed"], ss["train.title"] = int(config.get("seed", 0)), title
    if method in detectors:
        params = detectors[method].Config(**(config.get("params") or {})).model_dump()
        for name, value in params.items():
            ss[f"train.p.{method}.{name}"] = value


def start(config: dict) -> None:
    """Validate (the config and the split it makes), start in the background, go to the live view."""
    try:
        run_id = ui.manager().start(config)
    except DeepADError as exc:
        st.error(ui.esc(exc))
        return
    ui.select_run(run_id)
    ui.projector().project_when_finished(ui.manager(), run_id)
    st.switch_page("pages/runs.py", query_params={"run": run_id})


def start_lesson(trigger, fix) -> None:
    """Queue a lesson's trigger and fix (same settings but the one the lesson is about), then open
    the Collapse page with the two side by side."""
    ids = []
    for p in (trigger, fix):
        try:
            ids.append(ui.manager().start({**p.config, "title": p.title}))
        except DeepADError as exc:
            st.error(f"{p.title}: {exc}")
            return
    for run_id in ids:
        ui.projector().project_when_finished(ui.manager(), run_id)
    ui.select_run(ids[0])
    ss["collapse.pair"] = ids
    for side in ("left", "right"):
        ss.pop(f"collapse.cmp.{side}", None)
    st.switch_page("pages/collapse.py", query_params={"run": ids[0]})


# --- presets -----------------------------------------------------------------------------------
presets = load_presets()
lesson_pairs = lessons(presets)
if lesson_pairs:
    with st.container(border=True):
        st.markdown("**Collapse lessons**: one click trains a trigger and its fix, which differ only in "
                    "the setting named, and opens them side by side on **Collapse**")
        with st.container(horizontal=True):
            for lesson, (t, f) in sorted(lesson_pairs.items()):
                trigger, fix = presets[t], presets[f]
                label = f"{lesson.replace('-', ' ').capitalize()}: trigger and fix"
                if st.button(label, key=f"lesson.{lesson}", icon=":material/compare:",
                             help=f"{trigger.description} Fix: {fix.description} They differ in: "
                                  f"{', '.join(fix.differs_in)}."):
                    fill_form(fix.config, fix.title)
                    start_lesson(trigger, fix)

PRESET_GROUPS = {"collapse": "Collapse lesson", "papers": "Paper set-up"}
preset_names = sorted(presets, key=lambda n: (presets[n].group not in PRESET_GROUPS,
                                              list(PRESET_GROUPS).index(presets[n].group)
                                              if presets[n].group in PRESET_GROUPS else 0, presets[n].title))


def preset_label(name: str) -> str:
    p = presets[name]
    return f"{PRESET_GROUPS.get(p.group, p.group.capitalize())} · {p.title}"


def fill_from_preset() -> None:
    name = ss.get("train.preset")
    if name in presets:
        fill_form(presets[name].config, presets[name].title)


with st.container(border=True):
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    picked = c1.selectbox("Start from a preset: the collapse lessons and the papers' set-ups", preset_names,
                          index=None, key="train.preset", format_func=preset_label,
                          placeholder=f"{len(presets)} presets: pick one to read what it shows")
    with c2.container(horizontal=True):
        st.button("Fill in the form", key="preset-fill", disabled=picked is None, on_click=fill_from_preset,
                  icon=":material/edit_note:", help="Put the preset's settings into the form below, to "
                  "look at them or change one before starting.")
        start_preset = st.button("Start it now", key="preset-start", disabled=picked is None,
                                 icon=":material/play_arrow:", help="Start the preset as it is (a minute or "
                                 "a few on a CPU); the form below gets its settings too.")
    if picked is not None:
        st.caption(presets[picked].description)
    if start_preset and picked is not None:
        fill_form(presets[picked].config, presets[picked].title)
        start({**presets[picked].config, "title": presets[picked].title})

# --- data and set-up -----------------------------------------------------------------------------
ALTERATIONS = list(vm.ALTERATION_LABELS)


def upload_section():
    """The user's own file: upload, pick the label column (CSV), drop bad rows or resize images
    when the loader asks for it. Returns (dataset name, Dataset), or stops the page with the
    reason shown next to the uploader."""
    file = st.file_uploader(
        "Your data: a CSV, an NPZ (arrays x and y) or a zip of images in one sub-folder per class",
        key="upload-file", help="CSV: one label column and numeric feature columns. NPZ: x of shape "
        "(n, d) for tables or (n, H, W) / (n, C, H, W) for images, y the labels. Zip: e.g. normal/001.png, "
        "defect/002.png. Nothing is unpickled or executed; the file is kept with each run made from it.",
        on_change=lambda: ss.pop(ui.UPLOAD_KEY, None) if ss.get("upload-file") is None else None)
    if file is not None:
        data = file.getvalue()
        staged = ss.get(ui.UPLOAD_KEY)
        if not staged or staged["name"] != file.name or len(staged["data"]) != len(data) \
                or staged["data"] != data:
            ui.stage_file(file.name, data)
    staged = ss.get(ui.UPLOAD_KEY)
    if not staged:
        st.info("Upload a file to train on your own data.")
        st.stop()
    c1, c2 = st.columns([4, 1])
    c1.caption(f"Using **{staged['name']}** ({len(staged['data']) / 2 ** 20:.2f} MB).")
    if c2.button("Forget this file", key="upload-forget"):
        ss.pop(ui.UPLOAD_KEY, None)
        st.rerun()
    digest = staged["digest"]
    kind = vm.upload_kind(staged["name"])
    label = None
    if kind == "csv":
        first = vm.check_upload(staged["name"], staged["data"]) if f"_columns.{digest}" not in ss else None
        if first is not None:
            ss[f"_columns.{digest}"] = (first.columns, first.label_guess)
        columns, guess = ss[f"_columns.{digest}"]
        if columns:
            lkey = f"train.upload.label.{digest}"
            if lkey not in ss or ss[lkey] not in columns:
                ss[lkey] = guess
            label = st.selectbox("Label column", columns, key=lkey, placeholder="choose the label column",
                                 help="The column that names each row's class; you pick which of its "
                                      "values are normal below. The other numeric columns are the features.")
    dkey, rkey = f"train.upload.drop.{digest}", f"train.upload.resize.{digest}"
    drop = bool(ss.get(dkey, False))
    size = None
    if ss.get(rkey, False):
        size = (int(ss.get(f"{rkey}.h", 32)), int(ss.get(f"{rkey}.w", 32)))
    check = ui.checked_upload(staged, label, drop, size)
    if check.bad_rows:
        (st.warning if drop else st.error)(ui.esc(check.bad_rows))
        st.checkbox("Drop these rows", key=dkey,
                    help="Train and test without the rows that have missing, NaN or infinite values.")
    if check.mixed_sizes or ss.get(rkey, False):
        if check.mixed_sizes:
            st.error(ui.esc(check.mixed_sizes))
        c1, c2, c3 = st.columns([2, 1, 1])
        c1.checkbox("Resize every image", key=rkey, help="Bilinear resize of every image to one size.")
        for k, v, name, col in ((f"{rkey}.h", check.size_hint[0], "height", c2),
                                (f"{rkey}.w", check.size_hint[1], "width", c3)):
            ss.setdefault(k, v)
            col.number_input(f"…to this {name} (pixels)", min_value=4, max_value=1024, step=1, key=k)
    if check.needs_label:
        st.info("Choose the column that holds the labels.")
    if check.error:
        st.error(ui.esc(check.error))
    if check.dataset is None or check.dataset_name is None:
        st.stop()
    ds_ = check.dataset
    if drop and check.bad_rows:
        st.success(f"Rows with bad values dropped: {len(ds_.y)} samples remain.")
    st.caption(f"{len(ds_.y)} samples of shape {'×'.join(map(str, ds_.input_shape))} ({ds_.kind}); "
               f"classes: {ui.esc(', '.join(ds_.classes[:20]))}{' …' if len(ds_.classes) > 20 else ''}")
    return check.dataset_name, ds_


def param_widget(kind: str, key: str, shape: tuple[int, ...], where, label_suffix: str = ""):
    """The parameter of an alteration, limited to values that fit these images."""
    label, wkind, default, _ = vm.ALTERATION_PARAMS[kind]
    lo, hi = vm.alteration_param_range(kind, shape)
    ss.setdefault(key, min(default, hi))
    if wkind == "int":
        ss[key] = int(min(max(ss[key], lo), hi))
        return where.number_input(label + label_suffix, min_value=int(lo), max_value=int(hi), step=1, key=key,
                                  help=f"From {int(lo)} to {int(hi)} for these {shape[-2]}×{shape[-1]} images.")
    ss[key] = float(min(max(ss[key], lo), hi))
    return where.slider(label + label_suffix, float(lo), float(hi), step=0.01, key=key,
                        help="How far each pixel may move (images are in [0, 1]).")


def other_alteration(title: str, key: str, shape, where, disabled: bool = False, help_: str = ""):
    """'same as test' or another alteration with its parameter: (kind, param) or None."""
    opts = ["same"] + ALTERATIONS[1:]
    ss.setdefault(key, "same")
    kind = where.selectbox(title, opts, key=key, disabled=disabled, help=help_,
                           format_func=lambda k: "the test alteration" if k == "same" else k)
    if kind == "same" or disabled:
        return None
    return kind, param_widget(kind, f"{key}.param.{kind}", shape, where)


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
        st.error(f"**This dataset is not available here.** {ui.esc(exc)}")
        st.stop()
    default_normal = list(info.default_normal)
classes = ds.classes

class_ids = list(range(len(classes)))
fmt = lambda c: f"{c}: {classes[c]}" if classes[c] != str(c) else str(c)  # noqa: E731
alteration, alt_param = "none", None
if ds.kind == "image":
    ss.setdefault("train.alteration", "none")
    c1, c2 = st.columns([2, 3])
    alteration = c1.selectbox(
        "Anomalies", ALTERATIONS, key="train.alteration", format_func=vm.ALTERATION_LABELS.get,
        help="Other classes: the anomalies are images of the classes that are not normal. Block "
             "permutation and strokes (paper 000): every class is normal and the anomalies are altered "
             "copies of natural images. FGSM (paper 001): copies of normal images moved by a small "
             "classifier's gradient sign.")
    if alteration != "none":
        alt_param = param_widget(alteration, f"train.alt_param.{alteration}", ds.input_shape, c2)
ss.setdefault(f"train.normal.{dataset}", [c for c in default_normal if c in class_ids] or [0])
c1, c2 = st.columns(2)
if alteration in ("block-permutation", "strokes"):
    normal = class_ids
    ss[f"train.normal_all.{dataset}"] = class_ids
    c1.multiselect("Normal class(es)", class_ids, format_func=fmt, disabled=True,
                   key=f"train.normal_all.{dataset}",
                   help="Block permutation and strokes pool every class as normal (paper 000's set-up).")
else:
    normal = c1.multiselect("Normal label value(s)" if source == "upload" else "Normal class(es)", class_ids,
                            key=f"train.normal.{dataset}", format_func=fmt,
                            help="One class: one-vs-all. Several: n-vs-m. Training sees only these "
                                 "(plus any known anomalies and pollution below).")
anomaly_choices = [c for c in class_ids if c not in normal]
if alteration == "none":
    ss[f"train.anomaly.{dataset}"] = [c for c in ss.get(f"train.anomaly.{dataset}", []) if c in anomaly_choices]
    anomaly = c2.multiselect("Anomaly classes at test", anomaly_choices, key=f"train.anomaly.{dataset}",
                             format_func=fmt, placeholder="every class that is not normal",
                             help="Leave empty to test against every other class.")
else:
    anomaly = []
    c2.caption(f"**Anomalies at test:** one altered copy ({alteration}) of each normal validation and "
               "test image (see the preview below).")
if not normal:
    st.warning("Pick at least one normal class.")

c1, c2, c3, c4 = st.columns(4)
ss.setdefault(f"train.known.{dataset}", 0)
known = c1.number_input("Known anomalies in training", value=None, step=10, key=f"train.known.{dataset}",
                        placeholder="a whole number, 0 or more",
                        help="Labelled anomalies the method may use (Deep SAD). 0: unsupervised.")
train_alt = None
known_classes = []
if alteration == "none":
    known_from = anomaly or anomaly_choices
    ss[f"train.known_classes.{dataset}"] = [c for c in ss.get(f"train.known_classes.{dataset}", [])
                                           if c in known_from]
    known_classes = c2.multiselect("…drawn from classes", known_from, key=f"train.known_classes.{dataset}",
                                   format_func=fmt, placeholder="any anomaly class", disabled=not known,
                                   help="The other anomaly classes stay unseen in training: a test of "
                                        "generalisation to new kinds of anomalies.")
else:
    train_alt = other_alteration(
        "…made with", "train.train_alt", ds.input_shape, c2, disabled=not known,
        help_="Paper 000's Table VI: known anomalies made with one alteration, test anomalies with "
              "another, to see whether what was learnt carries over.")
ss.setdefault("train.known_normals", 0)
known_normals = c3.number_input("Labelled normals", value=None, step=10, key="train.known_normals",
                                placeholder="a whole number, 0 or more",
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
    seed = c2.number_input("Seed", value=None, step=1, key="train.seed", placeholder="a whole number, 0 or more",
                           help="The same seed gives the same split and the same training.")
    devices = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    ss.setdefault("train.device", "auto")
    device = c3.selectbox("Device", devices, key="train.device",
                          help="auto: the GPU when there is one, else the CPU.")
    ss.setdefault("train.test_share", None)
    test_share = c1.selectbox(
        "Anomalies in the test set", [None, 0.05, 0.1, 0.2, 0.5, 0.9], key="train.test_share",
        format_func=lambda v: "all test samples, as drawn" if v is None else f"{100 * v:g} %",
        help="Leave test anomalies (or normals) out until anomalies are this share of the test set; "
             "average precision and F1 depend on it, ROC AUC does not. Paper 004 tests on 20 %.")
    val_alt = None
    if alteration != "none":
        val_alt = other_alteration("Validation anomalies made with", "train.val_alt", ds.input_shape, c1,
                                   help_="The anomalies of the validation part (validation AUC while "
                                         "training); by default the test alteration.")

setup = {"normal": normal, "anomaly": anomaly or None, "known_anomalies": known,
         "known_classes": known_classes or None, "known_normals": known_normals,
         "pollution": float(pollution), "preprocess": preprocess, "test_anomaly_share": test_share}
setup = vm.alteration_setup(setup, alteration, alt_param, len(classes), train=train_alt, val=val_alt)
setup_error = vm.setup_problem(setup, ds, seed) if normal else None
if setup_error:
    st.error(ui.esc(setup_error))
elif alteration != "none":
    parts = [("test", "Test anomalies")]
    if train_alt is not None and known:
        parts.append(("train", "Known training anomalies"))
    if val_alt is not None:
        parts.append(("val", "Validation anomalies"))
    with st.container(border=True):
        st.markdown("**Preview**: natural images (top) and their altered copies (below)")
        for part, what in parts:
            try:
                originals, altered = ui.alteration_preview(dataset, json.dumps(setup, sort_keys=True),
                                                           int(seed), part)
            except DeepADError as exc:
                st.error(ui.esc(exc))
                break
            kind_, param_ = SetupConfig(**setup).alteration_plan()[part]
            st.caption(f"{what}: {kind_}, {vm.ALTERATION_PARAMS[kind_][0].split(':')[0]} = {param_}")
            st.image(originals, width=72)
            st.image(altered, width=72)

def fill_method_setup(dataset: str, class_labels, normal: list[int]) -> None:
    """Choosing a method fills in its paper's set-up values (known anomalies, known normals,
    pollution, the test set's anomaly share)."""
    values = vm.method_setup(ss["train.method"], None, class_labels, normal)
    ss[f"train.known.{dataset}"] = int(values["known_anomalies"])
    ss["train.known_normals"], ss["train.pollution"] = values["known_normals"], float(values["pollution"])
    ss["train.test_share"] = values["test_anomaly_share"]


# --- method -----------------------------------------------------------------------------------
st.subheader("2 · Method and its settings")
ss.setdefault("train.method", "deep-svdd" if "deep-svdd" in detectors else next(iter(detectors)))
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
          on_click=ui.reset_config_widgets, args=(det_cls.Config, prefix),
          help="Put every setting of this method back to its default (the papers' choices).")
st.caption("The settings a lesson varies come first; the rest are under **Advanced**. Hover over a "
           "question mark for what a setting does and which values it takes; a setting that cannot "
           "matter for the current choices is greyed out with the reason.")
params, param_errors = ui.grouped_config_widgets(det_cls.Config, prefix,
                                                 facts={"labelled": bool(known or known_normals)})
unmet = vm.unmet_requirements(method, setup, params) if params is not None else []
for field, need in unmet:
    st.warning(f"{det_cls.title} learns from {need} {vm.REQUIREMENT_WORDS[field][1]}: set "
               f"**{vm.REQUIREMENT_WORDS[field][0]}** above to at least {need}.")

# --- start (in the sidebar, always in view) ------------------------------------------------------
ss.setdefault("train.title", "")
problems = []
if not normal:
    problems.append("pick at least one normal class")
if setup_error:
    problems.append(setup_error)
problems += [f"{det_cls.title} needs at least {need} {vm.REQUIREMENT_WORDS[field][1]}" for field, need in unmet]
problems += list(param_errors.values())
config = {"dataset": dataset, "method": method, "params": params or {}, "seed": seed,
          "device": device, "title": ss["train.title"], "setup": setup}
with st.sidebar:
    st.divider()
    st.markdown("**Start this run**")
    st.text_input("Name (optional)", key="train.title", placeholder="e.g. bias on, no regularizer")
    config["title"] = ss["train.title"]
    if problems:
        st.error("Start is blocked until this is fixed:\n\n" + "\n".join(f"- {ui.esc(p)}" for p in problems),
                 icon=":material/block:")
    if st.button("Start", type="primary", icon=":material/play_arrow:", disabled=bool(problems),
                 key="start-run", use_container_width=True):
        start(config)
    st.caption(f"{det_cls.title} on {dataset if not dataset.startswith('file:') else 'your file'}; "
               "it trains in the background on this server.")
if not problems:
    with st.expander("The same run from a terminal"):
        try:
            st.code(train_command(config), language="bash", wrap_lines=True)
        except (DeepADError, ValueError) as exc:
            st.caption(ui.esc(exc))
