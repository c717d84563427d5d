"""How things are shown on every page: a user's strings as text (never markup), the coloured
badges of run states and verdicts, and presenter mode."""

from __future__ import annotations

import html
import re
import threading
from pathlib import Path

import streamlit as st

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


def badge(text: str, kind: str = "state") -> str:
    """Markdown for a coloured badge: a run state or a collapse verdict."""
    icon, colour = (STATE_BADGES if kind == "state" else VERDICT_BADGES).get(text, ("help", "gray"))
    return f":{colour}-badge[:material/{icon}: {esc(text)}]"


# --- presenter mode ------------------------------------------------------------------------------
PRESENTER_KEY = "presenter"
PRESENTER_CSS = Path(__file__).resolve().parents[2] / "assets" / "presenter.css"


def presenter_mode() -> None:
    """Larger fonts (the CSS shipped in assets/) and thicker lines in every figure, on every page,
    while the sidebar toggle is on; a link with ?present=1 opens with it on."""
    from deepad.figures.style import set_presenter

    ss = st.session_state
    if PRESENTER_KEY not in ss:
        ss[PRESENTER_KEY] = st.query_params.get("present") == "1"
    ss[PRESENTER_KEY] = bool(ss[PRESENTER_KEY])  # keeps the toggle's value across pages
    set_presenter(ss[PRESENTER_KEY])
    if ss[PRESENTER_KEY]:
        st.html(f"<style>{PRESENTER_CSS.read_text(encoding='utf-8')}</style>")



# --- the top of the sidebar ----------------------------------------------------------------------
_SIDEBAR = threading.local()  # per thread: each session runs its script in a thread of its own


def keep_sidebar_top(container) -> None:
    """app.py's first sidebar element: a slot a page fills with what must stay in view (Train's
    Start), above the run picker and its status."""
    _SIDEBAR.top = container


def sidebar_top():
    """The slot at the top of the sidebar (the sidebar itself when app.py made none)."""
    return getattr(_SIDEBAR, "top", None) or st.sidebar
