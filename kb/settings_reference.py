"""``docs/settings.md``, generated from :class:`kb.settings.Settings`.

Run ``python -m kb.settings_reference --write`` after changing a setting; ``--check`` (and
``tests/test_settings_reference.py``) fails while the file is out of date or a setting has no
description.
"""

from __future__ import annotations

import argparse
import re
import sys
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import NoDecode

from kb.settings import Settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
ENV_PREFIX = "KB_"

HEADER = """\
# Settings reference

<!-- Generated from kb/settings/ by `python -m kb.settings_reference --write`:
     edit the descriptions there, not here (tests/test_settings_reference.py checks). -->

Every setting is read from an environment variable `KB_<NAME>` (in a systemd unit: the
`EnvironmentFile=`, see [operations.md](operations.md)), else its default. A few have a
command-line option too (`kb --data-dir`, `--model`, `--threads`; `kb serve --host`, `--port`,
`--workers`), which wins over the variable.

How to write values: numbers and words as they are (`KB_PORT=8080`, `KB_QUERY_LOG=false`);
lists marked *comma-separated* as `10.0.0.5,10.0.0.0/24`; other lists as JSON
(`KB_CORS_ORIGINS=["https://desk.city.example.jp"]`); an optional setting left out is unset
(what that means is in its description).

| Variable | Type | Default | Description |
| --- | --- | --- | --- |
"""


@dataclass(frozen=True)
class SettingDoc:
    """One row of the reference."""

    name: str
    env: str
    type: str
    default: str
    description: str


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        named = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(named) + (", optional" if len(named) < len(args) else "")
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    if annotation is type(None):
        return "None"
    name = getattr(annotation, "__name__", None) or str(annotation)
    plain = {"str": "text", "int": "integer", "float": "number", "bool": "true/false"}
    plain |= {"Path": "path", "SecretStr": "secret text"}
    return plain.get(name, re.sub(r"^.*\.", "", name))


def _limits(field: FieldInfo) -> str:
    parts = []
    for item in field.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            bound = getattr(item, attr, None)
            if bound is not None:
                parts.append(f"{sign} {bound:g}" if isinstance(bound, float) else f"{sign} {bound}")
        max_length = getattr(item, "max_length", None)
        if max_length is not None:
            parts.append(f"≤ {max_length} characters")
    return ", ".join(parts)


def _default(name: str, field: FieldInfo) -> str:
    if field.default_factory is not None:
        if field.default_factory is list:
            return "empty"
        # Computed where kb runs (a path under the Python environment): described in words.
        return "see description"
    value = field.default
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "unset"
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"  # as it is written in the variable: no thousands separators


def settings_docs() -> list[SettingDoc]:
    """The reference rows, in the order of :class:`Settings`."""
    rows = []
    for name, field in Settings.model_fields.items():
        kind = _type_name(field.annotation)
        if any(isinstance(m, NoDecode) or m is NoDecode for m in field.metadata):
            kind += ", comma-separated"
        limits = _limits(field)
        if limits:
            kind += f" ({limits})"
        rows.append(
            SettingDoc(
                name=name,
                env=ENV_PREFIX + name.upper(),
                type=kind,
                default=_default(name, field),
                description=" ".join((field.description or "").split()),
            )
        )
    return rows


def undocumented() -> list[str]:
    """Settings without a description (each must say what it does)."""
    return [row.env for row in settings_docs() if not row.description]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """``docs/settings.md`` as it should read."""
    lines = [
        f"| `{row.env}` | {row.type} | {_cell(row.default)} | {_cell(row.description)} |"
        for row in settings_docs()
    ]
    return HEADER + "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kb.settings_reference",
        description="Write or check docs/settings.md, the settings reference.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the file")
    mode.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    parser.add_argument("--out", type=Path, default=DOC, help="the file (default: %(default)s)")
    args = parser.parse_args(argv)
    missing = undocumented()
    if missing:
        print(f"settings without a description in kb/settings/: {', '.join(missing)}")
        return 1
    text = render()
    if args.write:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(settings_docs())} settings)")
        return 0
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: python -m kb.settings_reference --write")
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
