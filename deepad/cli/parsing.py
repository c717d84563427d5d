"""What every sub-command's parser shares: one-line errors with exit status 2, help that shows
defaults, and flags named after settings."""

from __future__ import annotations

import argparse
import typing

from deepad.errors import EXIT_BAD_INPUT


def literal_choices(annotation) -> tuple | None:
    """The allowed values of a Literal[...] (or Optional[Literal[...]]) annotation."""
    for ann in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(ann) is typing.Literal:
            return typing.get_args(ann)
    return None


def flag_for(name: str) -> str:
    return "--" + name.replace("_", "-")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action):  # show a default only where there is one
        return action.help if action.default in (None, False) else super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see `{self.prog} --help`)\n")


def help_text(description: str | None, choices: list | None = None) -> str:
    """A config field's description as argparse help (which reads '%' as a format character)."""
    text = (description or "") + (f" ({' | '.join(choices)})" if choices else "")
    return text.replace("%", "%%")
