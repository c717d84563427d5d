"""Time to the lesson: from a fresh dashboard server's start (`python serve.py`, as `make run`
starts it, headless on 127.0.0.1) to both runs of a collapse lesson finished and the lesson view
drawn, in real Chromium, as a teacher does it: open Train, press the lesson's button, wait on the Lesson page until both
verdicts and test AUCs are shown. Goal: under 25 s on this 2-core machine when it is quiet; the
load average is printed beside each figure, since other jobs share the cores.

    PYTHONPATH=. python bench/time_to_lesson.py [--lesson batchnorm-weight-decay] [--repeat 2]

Each repeat starts a new server on an empty runs folder (nothing cached, nothing trained).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_view import ARGS, CHROMIUM, ROOT, SERVE, start_server  # noqa: E402


def one(lesson: str, name: str) -> dict:
    from playwright.sync_api import sync_playwright

    from deepad.runs.listing import RunStore

    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DEEPAD_RUNS_DIR": str(runs), "DEEPAD_UMAP": "off"}
        with open(Path(tmp) / "server.log", "w") as log:
            t0 = time.monotonic()
            server, url = start_server(env, log, SERVE)
            try:
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                    page = browser.new_page(viewport={"width": 1920, "height": 1080})
                    page.set_default_timeout(300_000)
                    page.goto(f"{url}/train?present=1")
                    page.get_by_role("heading", name="Train a detector", exact=True).wait_for()
                    button = page.get_by_role("button", name=re.compile(f"{re.escape(name)}: trigger"))
                    button.wait_for()
                    # until the page's first script run is over (its widgets are inert meanwhile)
                    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached")
                    page.wait_for_function("""document.querySelectorAll('[data-stale="true"]').length === 0""")
                    t_page = time.monotonic()
                    button.click()
                    page.wait_for_url(re.compile(r".*/lesson\?.*pair=.*"))
                    store = RunStore(runs)
                    while True:
                        states = [r.state for r in store.list()]
                        if len(states) == 2 and all(s in ("finished", "failed", "cancelled") for s in states):
                            break
                        time.sleep(0.2)
                    assert states == ["finished", "finished"], states
                    t_trained = time.monotonic()
                    status = [json.loads((r.path / "status.json").read_text(encoding="utf-8")) for r in store.list()]
                    # both cards drawn with their verdict and test AUC, and the charts between them
                    page.wait_for_function("""() => {
                        const left = document.querySelector('.st-key-lesson-left'), right = document.querySelector('.st-key-lesson-right');
                        const done = el => el && /AUC/.test(el.innerText) && /(healthy|collapsed|at risk)/i.test(el.innerText)
                            && !/running|queued/i.test(el.innerText);
                        const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
                        return done(left) && done(right) && charts.length >= 3 && charts.every(c => c.querySelector('.main-svg'));
                    }""")
                    t_drawn = time.monotonic()
                    browser.close()
            finally:
                server.terminate()
                server.wait(timeout=30)
    # where the pair's time goes: each worker's start (queued to its first step) and its own training time
    return {"server and Train page": t_page - t0, "pair trained": t_trained - t_page,
            "lesson drawn": t_drawn - t0, "load": os.getloadavg()[0],
            "worker start": [st["started"] - st["created"] for st in status],
            "training": [st["seconds"] for st in status]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lesson", default="batchnorm-weight-decay")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from deepad.presets import lesson_title, lessons, load_presets

    presets = load_presets()
    pairs = lessons(presets)
    name = lesson_title(presets[pairs[args.lesson][0]], args.lesson) if args.lesson in pairs else args.lesson
    totals = []
    for i in range(args.repeat):
        r = one(args.lesson, name)
        totals.append(r["lesson drawn"])
        print(f"run {i + 1}: server start to Train page {r['server and Train page']:.1f} s, the pair trained in "
              f"{r['pair trained']:.1f} s (workers started after "
              f"{', '.join(f'{v:.1f}' for v in r['worker start'])} s, trained "
              f"{', '.join(f'{v:.1f}' for v in r['training'])} s), server start to lesson drawn {r['lesson drawn']:.1f} s "
              f"(load average {r['load']:.1f} on {os.cpu_count()} cores)", flush=True)
    print(f"time to the lesson ({args.lesson}): median {statistics.median(totals):.1f} s of {args.repeat} "
          f"(goal < 25 s on a quiet machine; load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
