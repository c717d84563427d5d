"""What every page shares: the process-wide run manager, the current run, and small Streamlit
helpers (messages for missing runs and results, the threshold control, generated widgets).

Numbers come from `deepad.views`, figures from `deepad.figures`; this module only draws.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from pathlib import Path

import streamlit as st

from deepad import embedding
from deepad import views as vm
from deepad.warmup import warm_up_server
from deepad.errors import DeepADError
from deepad.live import HistoryReader, refresh_seconds
from deepad.runfolder import RESULTS, DamagedFile, RunFolder
from deepad.store import RunRecord, RunStore, check_run_id
from deepad.training.manager import RunManager
from deepad.training.reload import run_dataset

RUN_KEY = "run_id"  # the current run, shared by every page (also in the URL: ?run=...)
PAGES = {  # file -> (title, url path, icon)
    "pages/train.py": ("Train", "train", ":material/model_training:"),
    "pages/runs.py": ("Runs / live", "runs", ":material/monitoring:"),
    "pages/evaluate.py": ("ROC & scores", "roc", ":material/show_chart:"),
    "pages/latent.py": ("Latent space", "latent", ":material/scatter_plot:"),
    "pages/samples.py": ("Samples", "samples", ":material/grid_view:"),
    "pages/collapse.py": ("Collapse", "collapse", ":material/compress:"),
    "pages/score.py": ("Score your own input", "score", ":material/draw:"),
    "pages/explore.py": ("Explore", "explore", ":material/grid_on:"),
}
LIVE_REFRESH_S = 1.5  # how often live views poll the run on disk (see also `refresh_every`)
STATE_BADGES = {"queued": ("hourglass_empty", "gray"), "running": ("autorenew", "blue"),
                "finished": ("check_circle", "green"), "failed": ("error", "red"), "damaged": ("broken_image", "red"),
                "cancelled": ("stop_circle", "orange"), "interrupted": ("warning", "orange")}
VERDICT_BADGES = {"healthy": ("check_circle", "green"), "at risk": ("warning", "orange"),
                  "collapsed": ("compress", "red")}


# --- user strings on the page ------------------------------------------------------------------
# What markdown (CommonMark as Streamlit renders it) would read as markup in a single line:
# emphasis, code, links and images (brackets), HTML and autolinks (angle brackets), strikethrough,
# maths; an underscore only where it can open or close emphasis (not inside a word such as
# known_anomalies); a list or heading marker only at the start.
_MARKUP = re.compile(r"([\\`*\[\]<>~$#|])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# a list marker or heading underline only counts when a space or the end follows it ("1. ", "- ",
# a line of "="): "0.01" or "-5" at the start of a fragment stays as it is
_LEADING = re.compile(r"^(\s*)([-+=](?=\s|$)|\d+(?=[.)](?:\s|$)))")
_AUTOLINK = re.compile(r"(?i)(?<=[a-z]):(?=//)|(?<=\bwww)(?=\.)|(?<=@)")
_WORD_JOINER = "\u2060"


def esc(text) -> str:
    """A user's string (a run id, a title, a file or column name, an error naming them) for a place
    that renders markdown (st.markdown, st.caption, st.info, ...): what markdown would read as markup
    is escaped, so it is shown as the text it is, never as a link, an image, HTML or formatting.
    Web and e-mail addresses, which markdown links even when escaped, get an invisible word joiner
    (after "scheme:", "www" and "@") so that they stay text."""
    text = " ".join(str(text).splitlines())
    text = _AUTOLINK.sub(lambda m: m.group(0) + _WORD_JOINER, text)
    text = _MARKUP.sub(lambda m: "\\" + m.group(0), text)
    return _LEADING.sub(lambda m: m.group(1) + ("\\" + m.group(2) if not m.group(2).isdigit()
                                                  else m.group(2) + "\\"), text)


def plot_text(text) -> str:
    """A user's string for a Plotly title or legend (which render a little HTML)."""
    return html.escape(str(text), quote=False)


# --- entering a page ----------------------------------------------------------------------------
def require_app(page_file: str) -> None:
    """Hand a page opened without app.py to app.py, which adds the navigation and sidebar.

    Until some session has run app.py (and so `st.navigation`), Streamlit routes a direct link
    such as /runs?run=... on a freshly started server to pages/runs.py on its own (its older
    pages/ folder routing). app.py then opens the requested page, with the same run."""
    if st.session_state.get("_entered_via_app"):
        return
    url = PAGES.get(f"pages/{Path(page_file).name}", (None, "train"))[1]
    st.switch_page("app.py", query_params={**st.query_params.to_dict(), "page": url})


# --- process-wide objects --------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _manager(runs_dir: str) -> RunManager:
    """One manager per runs folder and server process; its threads never call Streamlit."""
    return RunManager(RunStore(runs_dir))


def store() -> RunStore:
    return RunStore()


def all_runs() -> list[RunRecord]:
    """Every run in the runs folder, newest first; [] when the folder cannot be read (app.py says
    why in the sidebar)."""
    try:
        return store().list()
    except DeepADError:
        return []


def manager() -> RunManager:
    return _manager(str(store().root))


@st.cache_resource(show_spinner=False)
def projector() -> embedding.Projector:
    """The process-wide UMAP projector."""
    return embedding.projector()


@st.cache_resource(show_spinner=False)
def warm_up() -> None:
    """Once per server process: `deepad.warmup.warm_up_server` (already under way when the server
    was started with `python serve.py`, as `make run` does)."""
    warm_up_server()


# --- presenter mode ------------------------------------------------------------------------------
PRESENTER_KEY = "presenter"
PRESENTER_CSS = Path(__file__).resolve().parent.parent / "assets" / "presenter.css"


def presenter_mode() -> None:
    """Larger fonts (the CSS shipped in assets/) and thicker lines in every figure, on every page,
    while the sidebar toggle is on; a link with ?present=1 opens with it on."""
    from deepad import figures

    ss = st.session_state
    if PRESENTER_KEY not in ss:
        ss[PRESENTER_KEY] = st.query_params.get("present") == "1"
    ss[PRESENTER_KEY] = bool(ss[PRESENTER_KEY])  # keeps the toggle's value across pages
    figures.set_presenter(ss[PRESENTER_KEY])
    if ss[PRESENTER_KEY]:
        st.html(f"<style>{PRESENTER_CSS.read_text()}</style>")


# --- the current run ---------------------------------------------------------------------------
def current_run_id() -> str | None:
    return st.session_state.get(RUN_KEY)


def run_id_from_url() -> str | None:
    """The ?run= of the address when it is a well-formed run id; otherwise None, and a note for
    `url_note` to show."""
    wanted = st.query_params.get("run")
    if not wanted:
        return None
    try:
        return check_run_id(wanted)
    except DeepADError as exc:
        st.session_state["_url_note"] = f"The address names no run: {exc}"
        return None


def url_note() -> None:
    """Why the address's ?run= was not opened (shown until another run is picked)."""
    if st.session_state.get("_url_note"):
        st.warning(esc(st.session_state["_url_note"]))


def select_run(run_id: str | None) -> None:
    st.session_state.pop("_url_note", None)
    st.session_state[RUN_KEY] = run_id
    if run_id:
        st.query_params["run"] = run_id
    elif "run" in st.query_params:
        del st.query_params["run"]


def get_run(run_id: str | None) -> RunRecord | None:
    if not run_id:
        return None
    try:
        return store().get(run_id)
    except (DeepADError, OSError, ValueError):
        return None


def current_run() -> RunRecord | None:
    """The run picked in the sidebar, read fresh from disk; says on the page why there is none."""
    run_id = current_run_id()
    if not run_id:
        st.info("No run selected yet. Start one on the **Train** page, or pick one in the sidebar.")
        return None
    run = get_run(run_id)
    if run is None:
        st.warning(f"Run {esc(run_id)} is not in {esc(store().root)} (it may have been deleted, or the "
                   "address names no run). Pick another run in the sidebar.")
    elif not run.config:  # its config is unreadable: nothing about it can be shown
        st.error(f"This run is damaged: {esc('; '.join(run.damage))}. Pick another run in the sidebar.")
        return None
    elif run.damage:
        st.error(f"This run is damaged: {esc('; '.join(run.damage))}. What can still be read is shown.")
    return run


def history_of(run: RunRecord) -> list[dict]:
    """The run's epoch records, read incrementally: this session keeps one reader per run, which
    parses only the lines appended since its last look (see `deepad.live.HistoryReader`)."""
    readers = st.session_state.setdefault("_history_readers", {})
    key = str(run.path)
    if key not in readers:
        if len(readers) >= 16:  # forget the runs looked at longest ago
            readers.pop(next(iter(readers)))
        readers[key] = HistoryReader(run.path)
    return readers[key].read()


def refresh_every(run: RunRecord) -> float | None:
    """How often a live view of the run looks again (None once it has ended): quicker while epoch
    records arrive every second or so, slower for long epochs (`deepad.live.refresh_seconds`)."""
    if not vm.is_live(run):
        return None
    return refresh_seconds(history_of(run), run.state)


def badge(text: str, kind: str = "state") -> str:
    """Markdown for a coloured badge: a run state or a collapse verdict."""
    icon, colour = (STATE_BADGES if kind == "state" else VERDICT_BADGES).get(text, ("help", "gray"))
    return f":{colour}-badge[:material/{icon}: {esc(text)}]"


def status_box(run: RunRecord) -> None:
    """What the run is doing, in a box coloured by how it went."""
    text = vm.status_text(run, manager().queue_position(run.run_id))
    if run.state in ("failed", "damaged"):
        st.error(esc(text))
    elif run.state in ("cancelled", "interrupted"):
        st.warning(esc(text))
    else:
        st.info(esc(text))


def run_heading(run: RunRecord) -> None:
    st.markdown(f"**{esc(vm.run_title(run))}** · {esc(run.run_id)} · {badge(run.state)}")


def file_stamp(path: Path) -> int:
    """A file's version for cache keys (0 when it does not exist)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@st.cache_data(max_entries=16, show_spinner=False)
def _load_results(path: str, stamp: int) -> dict | None:
    return RunFolder(path).read_results()


def results_of(run: RunRecord) -> dict | None:
    """Test results (cached per run and file version), or None before the run has finished or when
    the file is damaged (the damage is then in `run.damage`)."""
    try:
        return _load_results(str(run.path), run.files.stamp(RESULTS))
    except DamagedFile as exc:
        run.damage.append(str(exc)) if str(exc) not in run.damage else None
        return None
    except OSError:
        return None


def dataset_of(run: RunRecord):
    """The run's dataset as loaded from disk (raw samples for display), or None with a message."""
    try:
        return run_dataset(run)
    except DeepADError as exc:
        st.warning(f"The samples cannot be shown: {esc(exc)}")
        return None


def require_results(run: RunRecord) -> dict | None:
    """The run's results, or a message saying why there are none (yet)."""
    results = results_of(run)
    if results is not None:
        return results
    if vm.is_live(run):
        st.info(f"{esc(vm.status_text(run, manager().queue_position(run.run_id)))} Its test results appear "
                "here when it finishes; follow it live on **Runs / live**.")
        st.page_link("pages/runs.py", label="Follow it live", icon=":material/monitoring:")
    elif run.state == "failed":
        st.error(esc(vm.status_text(run)))
    elif run.damage:
        st.error(f"Its results cannot be shown: {esc('; '.join(run.damage))}.")
    else:
        st.warning(f"{esc(vm.status_text(run))} It has no test results, so there is nothing to show here; "
                   "its training curves are on **Runs / live** and **Collapse**.")
    return None


def page_run() -> RunRecord:
    """The preamble of a page about one run: the current run under its heading; where there is none
    (or it cannot be read), the page says why and ends there."""
    run = current_run()
    if run is None:
        st.stop()
    run_heading(run)
    return run


def page_run_results() -> tuple[RunRecord, dict]:
    """`page_run`, then the run's test results; where there are none (yet), the page says why and
    ends there."""
    run = page_run()
    results = require_results(run)
    if results is None:
        st.stop()
    return run, results


def sample_images(run: RunRecord, results: dict, rows, ds) -> None:
    """Test samples as a grid of images with their captions; altered copies (image-alteration
    set-ups) are drawn as they were scored, not as the natural images they were made from."""
    st.image(vm.sample_tiles(results, rows, ds.x), caption=vm.sample_captions(run, results, rows),
             width=104)


# --- image alterations and uploads on the Train page -------------------------------------------------
@st.cache_data(max_entries=16, show_spinner="Altering a few images for the preview…")
def alteration_preview(dataset: str, setup_json: str, seed: int, part: str = "test"):
    """(original tiles, altered tiles) for the Train page's preview (FGSM first trains its small
    classifier, hence the cache)."""
    from deepad.data.datasets import load_dataset

    return vm.alteration_preview(load_dataset(dataset), json.loads(setup_json), n=8, seed=seed, part=part)


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
                   image_size: tuple[int, int] | None) -> vm.UploadCheck:
    """`views.check_upload` then, when usable, `views.stage_upload` into `uploads_dir()`;
    remembered per file and options for this session (a page redraw does not reload the file)."""
    memo = st.session_state.setdefault("_upload_checks", {})
    key = (staged["digest"], staged["name"], label_column, drop_bad_rows, image_size)
    if key not in memo:
        for k in [k for k in memo if k[0] != staged["digest"]]:
            del memo[k]  # another file: forget the old one's checks
        check = vm.check_upload(staged["name"], staged["data"], label_column, drop_bad_rows, image_size)
        try:
            memo[key] = vm.stage_upload(check, staged["name"], staged["data"], uploads_dir(),
                                        drop_bad_rows, image_size, label_column)
        except (DeepADError, OSError) as exc:
            check.dataset, check.error = None, str(exc)
            memo[key] = check
    return memo[key]


# --- threshold shared by the ROC and Samples pages ---------------------------------------------------
def threshold_control(run: RunRecord, results: dict, key: str) -> float:
    """A slider over the score distribution; starts at the method's own threshold. The value is
    remembered per run so the Samples page uses the same one."""
    saved = st.session_state.setdefault("thresholds", {})
    default = vm.default_threshold(run, results)
    options = vm.threshold_options(results["test_scores"], default)
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
    return st.session_state.get("thresholds", {}).get(run.run_id, vm.default_threshold(run, results))


# --- widgets generated from a pydantic config ---------------------------------------------------
def config_widgets(config_cls, prefix: str, columns: int = 3, only: list[str] | None = None,
                   defaults: dict | None = None) -> dict:
    """Draw one widget per config field (see `views.field_specs`) and return their values.
    Widget values persist under `prefix.<name>` in the session."""
    order = {"select": 0, "bool": 1, "slider": 2, "log": 2, "int": 3, "float": 3}
    specs = sorted((s for s in vm.field_specs(config_cls) if only is None or s.name in only),
                   key=lambda s: order.get(s.kind, 4))  # choices, switches, sliders, numbers
    cols = st.columns(columns)
    values = {}
    for i, spec in enumerate(specs):
        key = f"{prefix}.{spec.name}"
        _init(spec, key, (defaults or {}).get(spec.name, spec.default))
        with cols[i % columns]:
            values[spec.name] = _widget(spec, key)
    return values


def _init(spec: vm.FieldSpec, key: str, default) -> None:
    if key not in st.session_state:
        st.session_state[key] = default if spec.kind != "json" else str(default)


def reset_config_widgets(config_cls, prefix: str) -> None:
    """Forget the widgets' values, so that they are drawn with the config's defaults again."""
    for spec in vm.field_specs(config_cls):
        st.session_state.pop(f"{prefix}.{spec.name}", None)


def grouped_config_widgets(config_cls, prefix: str, facts: dict | None = None) -> tuple[dict, dict]:
    """The Train form's method settings: grouped (network, objective, collapse regularizer,
    optimisation, method), the settings a lesson varies first and the rest under "Advanced";
    a setting that cannot matter for the other values (its declared `when`) is drawn disabled
    with the reason. Returns (params validated by the config or None, {field or "": message});
    each message is also shown under its widget."""
    specs = vm.field_specs(config_cls)
    for spec in specs:
        _init(spec, f"{prefix}.{spec.name}", spec.default)
    current = {s.name: st.session_state[f"{prefix}.{s.name}"] for s in specs}
    params, errors = vm.field_errors(config_cls, current)
    context = {**(facts or {}), **current}

    def draw(chosen: list[vm.FieldSpec]) -> None:
        groups = [g for g in vm.FORM_GROUPS if any(s.group == g for s in chosen)]
        cols = st.columns(max(len(groups), 2))
        for col, group in zip(cols, groups):
            with col:
                st.markdown(f"**{vm.FORM_GROUPS[group]}**")
                for spec in (s for s in chosen if s.group == group):
                    reason = vm.inactive_reason(spec, context)
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


def _widget(spec: vm.FieldSpec, key: str, disabled: bool = False):
    """One setting's widget. Numbers are typed freely (no clamping in the browser), so what is
    shown is what is checked and trained; the config's validation says what is allowed."""
    help_ = "  \n".join(p for p in (spec.help, f"Allowed: {spec.allowed}." if spec.allowed else "") if p) or None
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


# --- exports -------------------------------------------------------------------------------------
def download_figures(figs: list, title: str, file_name: str, key: str) -> None:
    """A button that downloads the figures as one HTML page (built only when clicked)."""
    from deepad.figures import figures_html

    st.download_button("Figures (HTML)", data=lambda: figures_html(figs, title), file_name=file_name,
                       mime="text/html", key=key, icon=":material/download:", on_click="ignore",
                       help="An interactive HTML page with these figures; opens offline in any browser.")


def keep_widget_state(prefixes: tuple[str, ...]) -> None:
    """Streamlit forgets a widget's value when its page is not shown; re-storing the values on
    every run keeps the Train and Explore forms as the user left them. (Buttons cannot be
    stored this way: their keys must not start with these prefixes.)"""
    for k in list(st.session_state.keys()):
        if isinstance(k, str) and k.startswith(prefixes):
            st.session_state[k] = st.session_state[k]
