"""How ``kb --help`` reads: every option's default shown, the version from package metadata.

:func:`finish_parser` runs once over the whole parser after every subcommand is added (kb's
own, the trainer's, ``kb keys``, ``kb audit``, ``kb eval``...), so a subcommand added later is
formatted the same way without knowing about it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from importlib import metadata

DIST = "kb"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds ``(default: X)`` to each option's help, except where it says nothing.

    Left out: a flag (``store_true``: off unless given), a default of ``None`` (the help says
    what happens then: "default: --model", "all departments") and a help that already names
    its default.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if (
            action.default is None
            or action.default is argparse.SUPPRESS
            or isinstance(action.default, bool)
            or action.default == []
            or "default" in help_text.lower()
            or "%(default)" in help_text
        ):
            return help_text
        return super()._get_help_string(action)


def package_version() -> str:
    """kb's version from the installed package's metadata (``pip install -e .`` included)."""
    try:
        return metadata.version(DIST)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        from kb import __version__

        return __version__


def all_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and every subcommand's parser below it, depth first."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for child in action.choices.values():
                if id(child) not in seen:  # aliases map to the same parser
                    seen.add(id(child))
                    yield from all_parsers(child)


def finish_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--version`` and give every (sub)parser :class:`HelpFormatter`."""
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {package_version()}",
        help="print kb's version and exit",
    )
    for each in all_parsers(parser):
        each.formatter_class = HelpFormatter
    return parser
