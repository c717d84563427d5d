"""mkdocs hook: one page per detector, generated at build time from its declaration
(`deepad.detectors.spec.DetectorSpec`: title, summary, what it needs, its hyperparameters with
their defaults and descriptions) and its README, and listed under "Detectors" in the navigation."""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _specs():
    from deepad.detectors import registry

    return registry.specs()


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def detector_page(spec) -> str:
    readme = spec.folder / "README.md"
    lines = [f"# {spec.title} (`{spec.name}`)", "", spec.summary, "",
             f"`deepad train --method {spec.name}` · `deepad.train(method=\"{spec.name}\")`", ""]
    facts = []
    if spec.hypersphere:
        facts.append("the hypersphere-collapse verdict applies (it decides by distance to a centre c)")
    for r in spec.requires:
        facts.append(f"needs `{r.setup_field}` in the set-up")
    if spec.setup_defaults:
        facts.append("its paper's set-up, filled in when not given: "
                     + ", ".join(f"`{k}={v}`" for k, v in spec.setup_defaults.items()))
    if spec.presets:
        facts.append("presets: " + ", ".join(f"`{p}`" for p in spec.presets))
    if facts:
        lines += ["**Declared.** " + "; ".join(facts) + ".", ""]
    lines += ["## Hyperparameters", "", "| option | default | what it does |", "|---|---|---|"]
    defaults = spec.Config().model_dump()
    for name, info in spec.Config.model_fields.items():
        lines.append(f"| `--{name.replace('_', '-')}` | `{_cell(defaults.get(name))}` | {_cell(info.description or '')} |")
    lines.append("")
    if spec.explorable:
        lines += ["**Worth a sweep** (Explore starts from these ranges): "
                  + ", ".join(f"`{k}` {lo:g} – {hi:g}" for k, (lo, hi) in spec.explorable.items()) + ".", ""]
    recorded = {**spec.losses, **{k: v[0] for k, v in spec.diagnostics.items()}}
    if recorded:
        lines += ["## What a run records", "", "Every epoch record holds the total `loss` and:", "",
                  "| name | what it is |", "|---|---|"]
        lines += [f"| `{k}` | {_cell(v)} |" for k, v in recorded.items()]
        lines.append("")
    if readme.is_file():
        text = readme.read_text()
        body = text.split("\n", 1)[1] if text.startswith("# ") else text  # its title is the page's
        lines += ["## From its README", "", body.replace("\n## ", "\n### ")]
    return "\n".join(lines)


def on_config(config):
    pages = [{spec.title: f"detectors/{name}.md"} for name, spec in _specs().items()]
    for item in config["nav"]:
        if isinstance(item, dict) and "Detectors" in item:
            item["Detectors"] = pages
    return config


def on_files(files, config):
    for name, spec in _specs().items():
        files.append(File.generated(config, f"detectors/{name}.md", content=detector_page(spec)))
    return files
