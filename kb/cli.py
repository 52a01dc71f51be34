"""The ``kb`` command line: the top-level options, the subcommands, and ``main``.

Each family of subcommands lives in a module of its own, which adds its parser and runs it:
``kb/cli_index.py`` (ingest, build, status), ``kb/cli_search.py``, ``kb/cli_serve.py``,
``kb/cli_model.py`` (eval, tune), ``kb/cli_brief.py``, ``kb/cli_lifecycle.py`` (delete, prune),
and the trainer, records, keys/audit and backup commands in their own packages.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sqlite3
import sys
import time
import unicodedata
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kb.errors import KBError
from kb.messages import language, msg
from kb.settings import Settings

log = logging.getLogger("kb")


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.model is not None:
        overrides["model"] = args.model
    if args.threads is not None:
        overrides["threads"] = args.threads
    return Settings(**overrides)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kb",
        description="Knowledge base and FAQ search for city-hall consultation desks.",
        epilog="Every setting can also be set as KB_<NAME> in the environment: docs/settings.md.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory (default: KB_DATA_DIR, else ./data)",
    )
    parser.add_argument(
        "--model", default=None, help="embedding model (default: KB_MODEL, else the offline e5)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="inference threads, 0 = automatic (default: KB_THREADS, else 0)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what kb does (INFO)")
    sub = parser.add_subparsers(dest="command", required=True)

    from kb import cli_index, cli_model, cli_search, cli_serve

    cli_index.add_parsers(sub)
    cli_search.add_parser(sub)
    cli_serve.add_parser(sub)
    cli_model.add_parsers(sub)
    cli_index.add_status_parser(sub)

    from kb.cli_brief import add_parser as add_brief_parser

    add_brief_parser(sub)

    from kb.trainer.commands import add_parser as add_trainer_parser

    add_trainer_parser(sub)

    from kb.desk.commands import add_parser as add_records_parser

    add_records_parser(sub)

    from kb.cli_lifecycle import add_parsers as add_lifecycle_parsers

    add_lifecycle_parsers(sub)

    from kb.security.commands import add_parsers as add_security_parsers

    add_security_parsers(sub)
    from kb.ops.commands import add_parsers as add_ops_parsers

    add_ops_parsers(sub)
    from kb.cli_help import finish_parser

    return finish_parser(parser)


def _disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk is full, as the OS, SQLite or FAISS put it."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    text = str(exc).lower()
    return "disk is full" in text or "no space left" in text


_UNWRITABLE_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def _unwritable(exc: BaseException) -> bool:
    """Whether ``exc`` says a file or folder cannot be written or opened: a read-only mount,
    a permission, an immutable file (as the OS or SQLite put it)."""
    if isinstance(exc, OSError) and exc.errno in _UNWRITABLE_ERRNOS:
        return True
    text = str(exc).lower()
    return any(
        s in text
        for s in ("readonly database", "read-only file system", "unable to open database file")
    )


def _printable(text: str) -> str:
    """``text`` with control characters (line breaks and tabs aside) written as escapes: an
    input's ESC quoted in a message would drive the terminal."""
    return "".join(
        c if c in "\n\t" or unicodedata.category(c) != "Cc" else f"\\x{ord(c):02x}" for c in text
    )


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite says a database file is damaged or is none (a truncated store)."""
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def _where(exc: BaseException, settings: Settings | None) -> str:
    """The file the OS names in ``exc``, else the data folder."""
    if isinstance(exc, OSError) and exc.filename:
        return str(exc.filename)
    return str(settings.data_dir) if settings is not None else "data"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Consultation records: every folder and file kb makes (stores, indexes, logs, exports) is
    # for the service's user only, whatever umask the shell or the service manager left.
    os.umask(0o077)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    started = time.perf_counter()
    # Messages in the configured language (KB_LANG) for this command, errors included.
    settings: Settings | None = None
    with ExitStack() as scope:
        try:
            settings = _settings(args)
            scope.enter_context(language(settings.lang))
            code = int(args.func(args, settings))
        except ValidationError as exc:  # a bad KB_* variable: say which, without a traceback
            problems = "; ".join(
                f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            print(msg("cli.bad_settings", problem=problems), file=sys.stderr)
            return 2
        except KBError as exc:
            print(_printable(msg("cli.error", problem=exc)), file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(msg("cli.interrupted"), file=sys.stderr)
            return 130
        except (OSError, sqlite3.Error, RuntimeError) as exc:
            if _disk_full(exc):
                log.debug("disk full", exc_info=True)
                print(
                    msg("cli.disk_full", data_dir=_where(exc, settings), problem=exc),
                    file=sys.stderr,
                )
                return 2
            if isinstance(exc, sqlite3.DatabaseError) and _damaged(exc):
                log.debug("damaged database", exc_info=True)
                print(
                    msg("cli.damaged_database", data_dir=_where(exc, settings), problem=exc),
                    file=sys.stderr,
                )
                return 2
            if isinstance(exc, (FileExistsError, NotADirectoryError)):
                log.debug("not a folder", exc_info=True)
                print(
                    msg("cli.not_a_folder", path=_where(exc, settings), problem=exc),
                    file=sys.stderr,
                )
                return 2
            if _unwritable(exc):
                log.debug("cannot write", exc_info=True)
                print(
                    msg("cli.unwritable", path=_where(exc, settings), problem=exc), file=sys.stderr
                )
                return 2
            raise
    log.info("done in %.1f s", time.perf_counter() - started)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
