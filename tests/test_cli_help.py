"""``kb --help`` everywhere: every option has help text and shows its default; ``--version``."""

from __future__ import annotations

import argparse
import re
from importlib import metadata
from pathlib import Path

import pytest

from kb.cli import build_parser, main
from kb.cli_help import HelpFormatter, all_parsers, package_version


def _options() -> list[tuple[str, argparse.ArgumentParser, argparse.Action]]:
    out = []
    for parser in all_parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            out.append((parser.prog, parser, action))
    return out


def test_the_walk_reaches_every_subcommand() -> None:
    progs = {parser.prog for parser in all_parsers(build_parser())}
    for expected in (
        "kb ingest",
        "kb search",
        "kb serve",
        "kb eval",
        "kb trainer gaps",
        "kb keys create",
        "kb audit export",
    ):
        assert expected in progs


def test_every_option_and_argument_has_help() -> None:
    missing = [
        f"{prog} {'/'.join(action.option_strings) or action.dest}"
        for prog, _, action in _options()
        if not (action.help or "").strip() or action.help == argparse.SUPPRESS
    ]
    assert missing == [], "options without help text: " + ", ".join(missing)


def test_every_subcommand_has_a_summary() -> None:
    missing = []
    for parser in all_parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                named = {a.dest for a in action._choices_actions if (a.help or "").strip()}
                missing += [f"{parser.prog} {name}" for name in action.choices if name not in named]
    assert missing == []


def test_every_option_with_a_default_shows_it() -> None:
    """A default worth stating is printed; ``None`` and flags must say so in their help."""
    problems = []
    for prog, parser, action in _options():
        if not action.option_strings or isinstance(action, argparse._VersionAction):
            continue
        assert parser.formatter_class is HelpFormatter, prog
        text = parser.format_help()
        name = action.option_strings[-1]
        default = action.default
        if default is None or default is argparse.SUPPRESS or isinstance(default, bool):
            continue
        entry = _help_entry(text, name)
        if "default" not in entry.lower():
            problems.append(f"{prog} {name}: {entry!r}")
    assert problems == []


def _help_entry(text: str, option: str) -> str:
    """The help entry of ``option`` in ``--help`` output (up to the next option)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.search(rf"(^|[ ,]){re.escape(option)}([ ,=]|$)", line.strip()):
            entry = [line]
            for more in lines[i + 1 :]:
                if re.match(r"^\s{2}\S", more) and not re.match(r"^\s{20,}", more):
                    break
                if not more.strip():
                    break
                entry.append(more)
            return " ".join(" ".join(entry).split())
    raise AssertionError(f"{option} not in help:\n{text}")


def test_help_shows_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["search", "--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "results per pane (default: 5)" in out
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 1)" in out  # --workers
    assert "KB_PORT" in out


def test_version_comes_from_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out == f"kb {package_version()}"
    assert package_version() == metadata.version("kb")


def test_serve_listens_where_the_settings_say(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``kb serve`` without --host/--port uses KB_HOST/KB_PORT (the systemd env file)."""
    import uvicorn

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    monkeypatch.setenv("KB_HOST", "0.0.0.0")
    monkeypatch.setenv("KB_PORT", "8123")
    assert main(["--data-dir", str(tmp_path), "--model", "fake", "serve"]) == 0
    assert (calls[-1]["host"], calls[-1]["port"]) == ("0.0.0.0", 8123)
    assert main(["--data-dir", str(tmp_path), "--model", "fake", "serve", "--port", "9000"]) == 0
    assert (calls[-1]["host"], calls[-1]["port"]) == ("0.0.0.0", 9000)
