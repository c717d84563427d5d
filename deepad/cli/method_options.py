"""The options of the method a `train` / `sweep` command line chooses: `--method`, else its
`--preset`'s, else the default (`chosen_method`), read before the rest is parsed, so that
`train --method M --help` lists M's own settings with M's descriptions, and a setting of another
method is refused with one line naming M's settings (exit status 2)."""

from __future__ import annotations

import argparse

from deepad.cli.parsing import EXIT_BAD_INPUT, Parser, flag_for, help_text, literal_choices


def setting_names() -> set[str]:
    """Every setting name of every detector (to tell another method's setting from a typo)."""
    from deepad.detectors import registry

    return {name for spec in registry.specs().values() for name in spec.Config.model_fields}


def _option_value(argv: list[str], flag: str) -> str | None:
    """The last value given to `flag` (`--flag V` or `--flag=V`) in `argv`, or None."""
    value = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == flag and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(flag + "="):
            value = arg[len(flag) + 1:]
    return value


def chosen_method(argv: list[str]) -> str:
    """The method a train / sweep command line chooses: --method, else its --preset's (a preset
    that does not exist is reported later, by `config_from_args`), else the default."""
    from deepad.detectors import registry

    method = _option_value(argv, "--method")
    if method is not None:
        return method
    preset = _option_value(argv, "--preset")
    if preset is not None:
        from deepad.presets import load_presets

        found = load_presets().get(preset)
        if found is not None:
            return found.config["method"]
    return registry.default_method()


class RunParser(Parser):
    """`train` / `sweep`: the shared options, plus the settings of the method the command line
    chooses (`chosen_method`), added before the command line is parsed."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # --k is not short for --known-anomalies
        super().__init__(*args, **kwargs)
        self.method: str | None = None

    def parse_known_args(self, args=None, namespace=None):
        import sys

        from deepad.detectors import registry

        argv = list(sys.argv[1:] if args is None else args)
        method = chosen_method(argv)
        if method not in registry.specs():  # the line names every method: no --help hint needed
            self.exit(EXIT_BAD_INPUT, f"error: {registry_unknown(method)}\n")
        if self.method is None:
            self.method = method
            _add_method_options(self, method)
        elif self.method != method:  # parsed again for another method: start from a fresh parser
            self.error(f"this parser holds the settings of method {self.method}, not {method}")
        parsed, extras = super().parse_known_args(argv, namespace)
        others = setting_names()
        for arg in extras:
            flag = arg.split("=", 1)[0]
            name = flag.removeprefix("--").removeprefix("no-").replace("-", "_")
            if arg.startswith("--") and name in others:
                self.exit(EXIT_BAD_INPUT, f"error: {not_a_setting(flag, method)}\n")
        return parsed, extras


def registry_unknown(method: str) -> str:
    from deepad.detectors import registry

    return f"unknown method {method!r}; choose one of: {', '.join(registry.names())}"


def not_a_setting(flag: str, method: str) -> str:
    """The one line refusing `flag` for `method`, naming the method's settings."""
    from deepad.detectors import registry

    own = registry.spec(method).Config.model_fields
    return (f"{flag} does not apply to method {method}; its settings are: "
            + ", ".join(flag_for(n) for n in own) + f" (`--method {method} --help` says what each does)")


def _add_method_options(t: argparse.ArgumentParser, method: str) -> None:
    """A flag for each setting of `method`'s config, with its description, type and choices."""
    from deepad.detectors import registry

    spec = registry.spec(method)
    g = t.add_argument_group(f"settings of method {method} ({spec.title}; defaults as shown; "
                             "`--method M --help` lists another method's)")
    defaults = spec.Config().model_dump()
    for name, info in spec.Config.model_fields.items():
        ann = info.annotation
        shown = defaults.get(name)
        if ann is bool:
            g.add_argument(flag_for(name), dest=f"param_{name}", action=argparse.BooleanOptionalAction,
                           default=None, help=help_text(info.description) + help_text(f" (default: {shown})"))
        else:
            choices = literal_choices(ann)
            g.add_argument(flag_for(name), dest=f"param_{name}", default=None, metavar="VALUE",
                           help=help_text(info.description, choices) + help_text(f" (default: {shown})"))
