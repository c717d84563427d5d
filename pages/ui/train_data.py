"""The Train page's data section: the user's own file (held in the session, checked and staged
for its run) and image alterations (their parameters, and a preview of what they make)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import streamlit as st

from deepad.data.setups import SetupConfig
from deepad.errors import DeepADError
from pages.ui.look import esc
from pages.ui.singletons import store
from pages.views import train as train_view
from pages.views.train import ALTERATION_LABELS, ALTERATION_PARAMS, alteration_param_range
from pages.views.uploads import UploadCheck, check_upload, stage_upload, upload_kind

ss = st.session_state
ALTERATIONS = list(ALTERATION_LABELS)


@st.cache_data(max_entries=16, show_spinner="Altering a few images for the preview…")
def alteration_preview(dataset: str, setup_json: str, seed: int, part: str = "test"):
    """(original tiles, altered tiles) for the Train page's preview (FGSM first trains its small
    classifier, hence the cache)."""
    from deepad.data.datasets import load_dataset

    return train_view.alteration_preview(load_dataset(dataset), json.loads(setup_json), n=8, seed=seed, part=part)


def uploads_dir() -> Path:
    """Where uploads wait for their run (kept once per content): $DEEPAD_UPLOADS_DIR, else
    `uploads` beside the runs folder. A run copies its file into its own folder when it starts."""
    env = os.environ.get("DEEPAD_UPLOADS_DIR")
    return Path(env).expanduser() if env else store().root.parent / "uploads"


UPLOAD_KEY = "train.upload.staged"  # {"name", "data", "digest"} of the file uploaded on Train


def stage_file(name: str, data: bytes) -> None:
    """Hold an uploaded file in the session (until another one replaces it), so it survives
    leaving the Train page; what the page does with it is `checked_upload`."""
    st.session_state[UPLOAD_KEY] = {"name": name, "data": bytes(data),
                                    "digest": hashlib.sha256(data).hexdigest()[:16]}


def checked_upload(staged: dict, label_column: str | None, drop_bad_rows: bool,
                   image_size: tuple[int, int] | None) -> UploadCheck:
    """`views.check_upload` then, when usable, `views.stage_upload` into `uploads_dir()`;
    remembered per file and options for this session (a page redraw does not reload the file)."""
    memo = st.session_state.setdefault("_upload_checks", {})
    key = (staged["digest"], staged["name"], label_column, drop_bad_rows, image_size)
    if key not in memo:
        for k in [k for k in memo if k[0] != staged["digest"]]:
            del memo[k]  # another file: forget the old one's checks
        check = check_upload(staged["name"], staged["data"], label_column, drop_bad_rows, image_size)
        try:
            memo[key] = stage_upload(check, staged["name"], staged["data"], uploads_dir(),
                                        drop_bad_rows, image_size, label_column)
        except (DeepADError, OSError) as exc:
            check.dataset, check.error = None, str(exc)
            memo[key] = check
    return memo[key]


def upload_section():
    """The user's own file: upload, pick the label column (CSV), drop bad rows or resize images
    when the loader asks for it. Returns (dataset name, Dataset), or stops the page with the
    reason shown next to the uploader."""
    file = st.file_uploader(
        "Your data: a CSV, an NPZ (arrays x and y, or ADBench's X and y), an ODDS .mat or a zip of images "
        "in one sub-folder per class",
        key="upload-file", help="CSV: one label column and numeric feature columns. NPZ: x of shape "
        "(n, d) for tables or (n, H, W) / (n, C, H, W) for images, y the labels. Zip: e.g. normal/001.png, "
        "defect/002.png. Nothing is unpickled or executed; the file is kept with each run made from it.",
        on_change=lambda: ss.pop(UPLOAD_KEY, None) if ss.get("upload-file") is None else None)
    if file is not None:
        data = file.getvalue()
        staged = ss.get(UPLOAD_KEY)
        if not staged or staged["name"] != file.name or len(staged["data"]) != len(data) \
                or staged["data"] != data:
            stage_file(file.name, data)
    staged = ss.get(UPLOAD_KEY)
    if not staged:
        st.info("Upload a file to train on your own data.")
        st.stop()
    c1, c2 = st.columns([4, 1])
    c1.caption(f"Using **{staged['name']}** ({len(staged['data']) / 2 ** 20:.2f} MB).")
    if c2.button("Forget this file", key="upload-forget"):
        ss.pop(UPLOAD_KEY, None)
        st.rerun()
    digest = staged["digest"]
    kind = upload_kind(staged["name"])
    label = None
    if kind == "csv":
        first = check_upload(staged["name"], staged["data"]) if f"_columns.{digest}" not in ss else None
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
    check = checked_upload(staged, label, drop, size)
    if check.bad_rows:
        (st.warning if drop else st.error)(esc(check.bad_rows))
        st.checkbox("Drop these rows", key=dkey,
                    help="Train and test without the rows that have missing, NaN or infinite values.")
    if check.mixed_sizes or ss.get(rkey, False):
        if check.mixed_sizes:
            st.error(esc(check.mixed_sizes))
        c1, c2, c3 = st.columns([2, 1, 1])
        c1.checkbox("Resize every image", key=rkey, help="Bilinear resize of every image to one size.")
        for k, v, name, col in ((f"{rkey}.h", check.size_hint[0], "height", c2),
                                (f"{rkey}.w", check.size_hint[1], "width", c3)):
            ss.setdefault(k, v)
            col.number_input(f"…to this {name} (pixels)", min_value=4, max_value=1024, step=1, key=k)
    if check.needs_label:
        st.info("Choose the column that holds the labels.")
    if check.error:
        st.error(esc(check.error))
    if check.dataset is None or check.dataset_name is None:
        st.stop()
    ds_ = check.dataset
    if drop and check.bad_rows:
        st.success(f"Rows with bad values dropped: {len(ds_.y)} samples remain.")
    st.caption(f"{len(ds_.y)} samples of shape {'×'.join(map(str, ds_.input_shape))} ({ds_.kind}); "
               f"classes: {esc(', '.join(ds_.classes[:20]))}{' …' if len(ds_.classes) > 20 else ''}")
    return check.dataset_name, ds_


def param_widget(kind: str, key: str, shape: tuple[int, ...], where, label_suffix: str = ""):
    """The parameter of an alteration, limited to values that fit these images."""
    label, wkind, default, _ = ALTERATION_PARAMS[kind]
    lo, hi = alteration_param_range(kind, shape)
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


def alteration_previews(dataset: str, setup: dict, seed: int, parts: list[tuple[str, str]]) -> None:
    """Natural images (top) and their altered copies (below), for each (part, what it is) of the
    set-up."""
    with st.container(border=True):
        st.markdown("**Preview**: natural images (top) and their altered copies (below)")
        for part, what in parts:
            try:
                originals, altered = alteration_preview(dataset, json.dumps(setup, sort_keys=True), int(seed), part)
            except DeepADError as exc:
                st.error(esc(exc))
                break
            kind_, param_ = SetupConfig(**setup).alteration_plan()[part]
            st.caption(f"{what}: {kind_}, {ALTERATION_PARAMS[kind_][0].split(':')[0]} = {param_}")
            st.image(originals, width=72)
            st.image(altered, width=72)
