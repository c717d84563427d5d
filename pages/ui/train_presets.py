"""The Train page's ways to start: filling the form from a run config, starting a run (from the
form or a preset), a collapse lesson's trigger and fix (or a demo's pair) in one click, and the preset
picker."""

from __future__ import annotations

import streamlit as st

from deepad.data.setups import SetupConfig
from deepad.detectors import registry
from deepad.errors import DeepADError
from deepad.presets import demos, lesson_title, lessons, load_presets
from pages import page_path
from pages.ui.current import select_run
from pages.ui.look import esc
from pages.ui.singletons import manager, projector

ss = st.session_state
PRESET_GROUPS = {"collapse": "Collapse lesson", "papers": "Paper set-up"}


def fill_form(config: dict, title: str = "") -> None:
    """Put a run config into the form's widgets (before they are drawn)."""
    ds = config.get("dataset", "mnist5k")
    setup = SetupConfig(**(config.get("setup") or {}))
    method = config.get("method", registry.default_method())
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
    spec = registry.specs().get(method)
    if spec is not None:
        for name, value in spec.Config(**(config.get("params") or {})).model_dump().items():
            ss[f"train.p.{method}.{name}"] = value


def start(config: dict) -> None:
    """Validate (the config and the split it makes), start in the background, go to the live view."""
    try:
        run_id = manager().start(config)
    except DeepADError as exc:
        st.error(esc(exc))
        return
    select_run(run_id)
    projector().project_when_finished(manager(), run_id)
    st.switch_page(page_path("runs"), query_params={"run": run_id})


def start_lesson(first, second) -> None:
    """Queue a lesson's trigger and fix (or a demo's run without and with its setting: the same
    settings but the one it is about), then open the Lesson page with the two side by side."""
    ids = []
    for p in (first, second):
        try:
            ids.append(manager().start({**p.config, "title": p.title}))
        except DeepADError as exc:
            st.error(f"{esc(p.title)}: {esc(exc)}")
            return
    for run_id in ids:
        projector().project_when_finished(manager(), run_id)
    select_run(ids[0])
    ss["lesson.pair"] = ids
    ss["collapse.pair"] = ids  # the comparison on Collapse opens on them too
    for side in ("left", "right"):
        ss.pop(f"collapse.cmp.{side}", None)
    st.switch_page(page_path("lesson"), query_params={"run": ids[0], "pair": ",".join(ids)})


def preset_panel() -> None:
    """The collapse lessons' and demos' one-click buttons, then the preset picker."""
    presets = load_presets()
    lesson_buttons(presets)
    preset_picker(presets)


def lesson_buttons(presets: dict) -> None:
    lesson_pairs, demo_pairs = lessons(presets), demos(presets)
    if not lesson_pairs and not demo_pairs:
        return
    with st.container(border=True):
        st.markdown("**Lessons**: one click trains two runs that differ only in the settings named and opens "
                    "them side by side on **Lesson**. A collapse lesson's trigger collapses and its fix does "
                    "not; a regularizer demo shows the same healthy network without and with the regularizer.")
        with st.container(horizontal=True):
            for kind, pairs in (("lesson", lesson_pairs), ("demo", demo_pairs)):
                for lesson, (a, b) in sorted(pairs.items()):
                    first, second = presets[a], presets[b]
                    name = lesson_title(first, lesson)
                    label = f"{name}: trigger and fix" if kind == "lesson" else f"{name}: without and with (demo)"
                    words = "Fix" if kind == "lesson" else "With it"
                    if st.button(label, key=f"lesson.{lesson}", icon=":material/compare:" if kind == "lesson"
                                 else ":material/science:",
                                 help=f"{first.description} {words}: {second.description} They differ in: "
                                      f"{', '.join(second.differs_in)}."):
                        fill_form(second.config, second.title)
                        start_lesson(first, second)


def preset_picker(presets: dict) -> None:
    """Pick a preset (the lessons first, then the papers' set-ups), read what it shows, then fill
    the form with it or start it as it is."""
    names = sorted(presets, key=lambda n: (presets[n].group not in PRESET_GROUPS,
                                           list(PRESET_GROUPS).index(presets[n].group)
                                           if presets[n].group in PRESET_GROUPS else 0, presets[n].title))

    def label(name: str) -> str:
        p = presets[name]
        group = "Regularizer demo" if p.kind == "demo" else PRESET_GROUPS.get(p.group, p.group.capitalize())
        return f"{group} · {p.title}"

    def fill_from_preset() -> None:
        name = ss.get("train.preset")
        if name in presets:
            fill_form(presets[name].config, presets[name].title)

    with st.container(border=True):
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        picked = c1.selectbox("Start from a preset: the collapse lessons and the papers' set-ups", names,
                              index=None, key="train.preset", format_func=label,
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
