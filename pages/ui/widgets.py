"""Widgets several pages share: the settings generated from a detector's pydantic config and the
set-up's (`SetupConfig`), the decision threshold of the ROC and Samples pages, the figures'
download button, and keeping a form's values while its page is not shown."""

from __future__ import annotations

import html
from collections.abc import Mapping

import plotly.graph_objects as go
import streamlit as st

from deepad.runs.read import RunRecord
from deepad.views.evaluate import default_threshold
from pages.views.evaluate import threshold_options
from pages.views.forms import FORM_GROUPS, FieldSpec, field_errors, field_specs, inactive_reason


# --- threshold shared by the ROC and Samples pages ---------------------------------------------------
def threshold_control(run: RunRecord, results: dict, key: str) -> float:
    """A slider over the score distribution; starts at the method's own threshold. The value is
    remembered per run so the Samples page uses the same one."""
    saved = st.session_state.setdefault("thresholds", {})
    default = default_threshold(run, results)
    options = threshold_options(results["test_scores"], default)
    value = saved.get(run.run_id, default)
    if value not in options:
        value = min(options, key=lambda v: abs(v - value))
    wkey = f"{key}.{run.run_id}"
    if st.session_state.get(wkey) not in options:
        st.session_state[wkey] = value

    def remember():
        saved[run.run_id] = st.session_state[wkey]

    thr = st.select_slider(
        "Decision threshold: scores above it are flagged as anomalies", options=options, key=wkey,
        format_func=lambda v: f"{v:.4g}", on_change=remember,
        help="Starts at the method's own threshold (for Deep SVDD: the radius R for soft-boundary, "
             "else the 95th percentile of the training scores). The options follow the test scores' "
             "distribution, so each step flags about the same number of extra samples.")
    saved[run.run_id] = thr

    def reset():
        saved[run.run_id] = default
        st.session_state[wkey] = default

    st.button("Reset to the method's threshold", key=f"{wkey}.reset", on_click=reset,
              disabled=abs(thr - default) <= 1e-12 * (1 + abs(default)))
    return thr


def current_threshold(run: RunRecord, results: dict) -> float:
    return st.session_state.get("thresholds", {}).get(run.run_id, default_threshold(run, results))


# --- widgets generated from a pydantic config ---------------------------------------------------
def config_widgets(config_cls, prefix: str, columns: int = 3, only: list[str] | None = None,
                   defaults: dict | None = None, facts: dict | None = None) -> dict:
    """Draw one widget per config field (see `views.field_specs`) and return their values.
    Widget values persist under `prefix.<name>` in the session. A setting that cannot matter for
    the other values and the set-up's `facts` (its declared `when`, as on Train) is drawn greyed
    out with the reason."""
    order = {"select": 0, "bool": 1, "slider": 2, "log": 2, "int": 3, "float": 3}
    specs = sorted((s for s in field_specs(config_cls) if only is None or s.name in only),
                   key=lambda s: order.get(s.kind, 4))  # choices, switches, sliders, numbers
    for spec in specs:
        _init(spec, f"{prefix}.{spec.name}", (defaults or {}).get(spec.name, spec.default))
    context = {**(facts or {}), **{s.name: st.session_state[f"{prefix}.{s.name}"] for s in specs}}
    cols = st.columns(columns)
    values = {}
    for i, spec in enumerate(specs):
        reason = inactive_reason(spec, context)
        with cols[i % columns]:
            values[spec.name] = _widget(spec, f"{prefix}.{spec.name}", disabled=reason is not None)
            if reason:
                st.caption(f":material/block: Inactive: {reason}.")
    return values


def _init(spec: FieldSpec, key: str, default) -> None:
    if key not in st.session_state:
        st.session_state[key] = default if spec.kind != "json" else str(default)


def reset_config_widgets(config_cls, prefix: str) -> None:
    """Forget the widgets' values, so that they are drawn with the config's defaults again."""
    for spec in field_specs(config_cls):
        st.session_state.pop(f"{prefix}.{spec.name}", None)


def grouped_config_widgets(config_cls, prefix: str, facts: dict | None = None) -> tuple[dict, dict]:
    """The Train form's method settings: grouped (network, objective, collapse regularizer,
    optimisation, method), the settings a lesson varies first and the rest under "Advanced";
    a setting that cannot matter for the other values (its declared `when`) is drawn disabled
    with the reason. Returns (params validated by the config or None, {field or "": message});
    each message is also shown under its widget."""
    specs = field_specs(config_cls)
    for spec in specs:
        _init(spec, f"{prefix}.{spec.name}", spec.default)
    current = {s.name: st.session_state[f"{prefix}.{s.name}"] for s in specs}
    params, errors = field_errors(config_cls, current)
    context = {**(facts or {}), **current}

    def draw(chosen: list[FieldSpec]) -> None:
        groups = [g for g in FORM_GROUPS if any(s.group == g for s in chosen)]
        cols = st.columns(max(len(groups), 2))
        for col, group in zip(cols, groups):
            with col:
                st.markdown(f"**{FORM_GROUPS[group]}**")
                for spec in (s for s in chosen if s.group == group):
                    reason = inactive_reason(spec, context)
                    _widget(spec, f"{prefix}.{spec.name}", disabled=reason is not None)
                    if reason:
                        st.caption(f":material/block: Inactive: {reason}.")
                    if spec.name in errors:
                        st.error(errors[spec.name], icon=":material/error:")

    lesson = [s for s in specs if s.lesson]
    rest = [s for s in specs if not s.lesson]
    draw(lesson or rest)
    if lesson and rest:
        wrong = [s.name for s in rest if s.name in errors]
        with st.expander(f"Advanced: {len(rest)} more settings" + (f" (check {', '.join(wrong)})" if wrong else ""),
                         expanded=bool(wrong)):
            draw(rest)
    if "" in errors:
        st.error(errors[""], icon=":material/error:")
    return params, errors


def _widget(spec: FieldSpec, key: str, disabled: bool = False):
    """One setting's widget. Numbers are typed freely (no clamping in the browser), so what is
    shown is what is checked and trained; the config's validation says what is allowed."""
    help_ = _help(spec)
    if spec.kind == "bool":
        return st.checkbox(spec.label, key=key, help=help_, disabled=disabled)
    if spec.kind == "select":
        if st.session_state[key] not in spec.options:
            st.session_state[key] = spec.default
        return st.selectbox(spec.label, spec.options, key=key, help=help_, disabled=disabled)
    if spec.kind == "log":
        options = list(spec.options)
        if st.session_state[key] not in options:
            options = sorted({*options, float(st.session_state[key])})
        return st.select_slider(spec.label, options=options, key=key, help=help_, disabled=disabled,
                                format_func=lambda v: f"{v:g}")
    if spec.kind == "slider":
        st.session_state[key] = min(max(st.session_state[key], spec.lo), spec.hi)
        return st.slider(spec.label, min_value=spec.lo, max_value=spec.hi, step=spec.step, key=key,
                         help=help_, disabled=disabled)
    if spec.kind == "int":
        return st.number_input(spec.label, value=None, step=int(spec.step or 1), key=key, help=help_,
                               placeholder=spec.allowed, disabled=disabled)
    if spec.kind == "float":
        return st.number_input(spec.label, value=None, step=float(spec.step or 0.01), format="%g", key=key,
                               help=help_, placeholder=spec.allowed, disabled=disabled)
    return st.text_input(spec.label, key=key, help=help_, disabled=disabled)


def _help(spec: FieldSpec) -> str | None:
    return "  \n".join(p for p in (spec.help, f"Allowed: {spec.allowed}." if spec.allowed else "") if p) or None


# --- the set-up form, generated from SetupConfig -----------------------------------------------
def setup_spec(name: str) -> FieldSpec:
    """How the set-up setting `name` is drawn: from its `SetupConfig` field (title, description,
    type, bounds, choices), as a method's settings are drawn from its detector's config."""
    from deepad.data.setups import SetupConfig

    return next(s for s in field_specs(SetupConfig) if s.name == name)


def setup_widget(name: str, key: str, *, options: list | None = None, format_func=str, label: str | None = None,
                 disabled: bool = False, placeholder: str | None = None, count_step: int | None = None):
    """Draw the set-up setting `name` from its `SetupConfig` field (see `setup_spec`) and return its
    value; the value persists under `key`. Only what the field cannot know comes from the page: the
    loaded dataset's classes, or a short list of choices for an optional number (`options`, shown
    with `format_func`), a label naming a user's own file, and `count_step` for a number the form
    asks for as a whole count."""
    import dataclasses

    spec = setup_spec(name)
    if label:
        spec = dataclasses.replace(spec, label=label)
    if options is not None:
        from deepad.data.setups import SetupConfig

        if "list" in str(SetupConfig.model_fields[name].annotation):  # a set of classes
            return st.multiselect(spec.label, options, key=key, format_func=format_func, help=_help(spec),
                                  disabled=disabled, placeholder=placeholder or "Choose options")
        return st.selectbox(spec.label, options, key=key, format_func=format_func, help=_help(spec),
                            disabled=disabled)
    if count_step is not None:
        return st.number_input(spec.label, value=None, step=int(count_step), key=key, help=_help(spec),
                               placeholder=placeholder or "a whole number, 0 or more", disabled=disabled)
    st.session_state.setdefault(key, spec.default)
    return _widget(spec, key, disabled=disabled)


# --- exports -------------------------------------------------------------------------------------
def figures_html(figs: list[go.Figure], title: str) -> str:
    """One self-contained HTML page holding the figures (plotly.js embedded once: works offline);
    the title (a run's, which its user named) is shown as text."""
    title = html.escape(title)
    parts = [f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>",
             f"<h2 style='font-family:sans-serif'>{title}</h2>"]
    for i, fig in enumerate(figs):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    parts.append("</body></html>")
    return "\n".join(parts)


def download_figures(figs: list, title: str, file_name: str, key: str) -> None:
    """A button that downloads the figures as one HTML page (built only when clicked)."""
    st.download_button("Figures (HTML)", data=lambda: figures_html(figs, title), file_name=file_name,
                       mime="text/html", key=key, icon=":material/download:", on_click="ignore",
                       help="An interactive HTML page with these figures; opens offline in any browser.")


def keep_widget_state(prefixes: tuple[str, ...]) -> None:
    """Streamlit forgets a widget's value when its page is not shown; re-storing the values on
    every run keeps the Train and Explore forms as the user left them. Read-only states are left
    as they are: a chart's selection here; buttons' keys must not start with these prefixes."""
    for k in list(st.session_state.keys()):
        if isinstance(k, str) and k.startswith(prefixes):
            value = st.session_state[k]
            if isinstance(value, Mapping) and "selection" in value:  # a chart's selection
                continue
            st.session_state[k] = value
