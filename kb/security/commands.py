"""``kb keys ...`` and ``kb audit ...``: key management and the audit log from the shell.

Whoever can run these on the server can read and write ``DATA_DIR`` anyway, so they act as an
administrator; each action is recorded in the audit log as ``cli:<os user>``. The other
commands that read or change data (``kb ingest``, ``kb build``, ``kb search``, ``kb trainer
approve``) record themselves through :func:`cli_audited` and :func:`record_cli_search`, with
the role ``cli``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kb.errors import InputError
from kb.messages import msg
from kb.security.audit import AuditLog, Masker, export, parse_since
from kb.security.audit_actions import Outcome, audited
from kb.security.keys import ApiKey, KeyStore
from kb.security.roles import ROLES
from kb.settings import Settings

CLI_ROLE = "cli"
"""The role of events written by commands other than ``kb keys`` and ``kb audit``."""

MAX_PROBLEMS_SHOWN = 50


def cli_actor() -> str:
    """``cli:<os user>``: who ran a command on the server."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli:unknown"


@contextmanager
def cli_audited(
    settings: Settings, action: str, *, ids: Sequence[str] = (), detail: str = ""
) -> Iterator[Outcome]:
    """:func:`kb.security.audit_actions.audited` for a command: actor ``cli:<user>``, role cli.

    The intent event is written (and the key checked) before the block runs: a command that
    cannot be audited does not run.
    """
    audit = AuditLog.from_settings(settings)
    try:
        with audited(
            audit, action, actor=cli_actor(), role=CLI_ROLE, ids=ids, detail=detail
        ) as outcome:
            yield outcome
    finally:
        audit.close()


def record_cli_search(
    settings: Settings, query: str, ids: Sequence[str], *, masker: Masker | None = None
) -> None:
    """Record a ``kb search`` (query masked, every id shown) before its results are printed."""
    audit = AuditLog.from_settings(settings, masker=masker)
    try:
        audit.append("search", actor=cli_actor(), role=CLI_ROLE, query=query, ids=ids)
    finally:
        audit.close()


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def warn_if_no_keys(settings: Settings) -> bool:
    """Say on stderr how to create the first key when none can log in; True if it warned."""
    keys = KeyStore(settings.keys_path)
    try:
        if keys.has_active():
            return False
    finally:
        keys.close()
    _err("kb: no API keys exist yet: the staff console, trainer pages and /api/v1 answer 401")
    _err("kb: until an administrator creates one: kb keys create --role staff --name NAME")
    return True


def _audit_key_change(settings: Settings, action: str, key: ApiKey) -> None:
    """Record a key created or revoked from the command line in the audit log."""
    audit = AuditLog.from_settings(settings)
    try:
        audit.append(
            action,
            actor=cli_actor(),
            role="admin",
            ids=[key.name],
            detail=f"{key.role} key {key.key_id}",
        )
    finally:
        audit.close()


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    keys = KeyStore(settings.keys_path)
    try:
        if args.if_none and keys.has_active():
            _err("kb: API keys exist already; none created (see `kb keys list`)")
            return 0
        key, secret = keys.create(args.name, args.role, expires_days=args.expires_days)
    finally:
        keys.close()
    _audit_key_change(settings, "keys.create", key)
    until = f", valid until {key.expires_at[:16]} UTC" if key.expires_at else ""
    _err(f"created {key.role} key {key.name!r} (id {key.key_id}{until}). Store it now: it is shown")
    _err("only this once and kept only as a hash. Send it as: Authorization: Bearer <key>")
    print(secret, flush=True)
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    keys = KeyStore(settings.keys_path)
    try:
        key = keys.revoke(args.name)
    finally:
        keys.close()
    _audit_key_change(settings, "keys.revoke", key)
    print(f"revoked {key.role} key {key.name!r} (id {key.key_id}); it no longer works", flush=True)
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    keys = KeyStore(settings.keys_path)
    try:
        listed = keys.list(include_revoked=not args.active)
    finally:
        keys.close()
    if args.json:
        rows = [
            {
                "name": k.name,
                "role": k.role,
                "key_id": k.key_id,
                "created_at": k.created_at,
                "revoked_at": k.revoked_at,
                "expires_at": k.expires_at,
                "active": k.active,
            }
            for k in listed
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2), flush=True)
        return 0
    if not listed:
        print("no API keys yet: kb keys create --role staff --name NAME", flush=True)
        return 0
    width = max(4, *(len(k.name) for k in listed))
    print(f"{'name':<{width}}  {'role':<7}  {'id':<8}  {'created (UTC)':<19}  status")
    for k in listed:
        if k.revoked_at:
            status = f"revoked {k.revoked_at[:19]}"
        elif k.expired():
            status = f"expired {k.expires_at[:19]}"
        else:
            status = f"active until {k.expires_at[:19]}" if k.expires_at else "active"
        print(f"{k.name:<{width}}  {k.role:<7}  {k.key_id:<8}  {k.created_at[:19]:<19}  {status}")
    return 0


def cmd_audit_export(args: argparse.Namespace, settings: Settings) -> int:
    since = parse_since(args.since) if args.since else ""
    until = parse_since(args.until) if args.until else ""
    fmt = args.format or ("jsonl" if args.out and args.out.suffix == ".jsonl" else "csv")
    audit = AuditLog.from_settings(settings)
    try:
        events = audit.events(since=since, until=until)
        if args.out is None:
            n = export(events, fmt, sys.stdout)
        else:
            # A BOM lets Excel (what a city office opens a CSV with) read the Japanese text.
            encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
            with (
                private_output(args.out) as partial,
                partial.open("w", encoding=encoding, newline="") as out,
            ):
                n = export(events, fmt, out)
        audit.append(
            "audit.export",
            actor=cli_actor(),
            role="admin",
            detail=f"{n} events since {args.since or '-'} until {args.until or '-'} as {fmt}",
        )
    finally:
        audit.close()
    if args.out is not None:
        _err(f"wrote {n} event(s) to {args.out}")
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    audit = AuditLog.from_settings(settings)
    try:
        result = audit.verify(anchor=args.anchor)
    finally:
        audit.close()
    legacy = result.events - result.keyed
    keyed = f"HMAC-SHA256, key id {result.key_id}" if result.keyed else "no keyed events yet"
    if legacy:
        keyed += f"; {legacy} older event(s) plain SHA-256"
    anchor = f"anchor {result.anchor} up to event {result.anchored}" if result.anchor else ""
    for line in result.unfinished:
        print(f"unfinished: {line}")
    if result.ok:
        print(f"audit log ok: {result.events} events, chain intact ({keyed}); {anchor}")
        print(f"head {result.head}")
        return 0
    for problem in result.problems[:MAX_PROBLEMS_SHOWN]:
        print(f"tampered: {problem}")
    if len(result.problems) > MAX_PROBLEMS_SHOWN:
        print(f"... and {len(result.problems) - MAX_PROBLEMS_SHOWN} more problem(s)")
    print(
        f"audit log NOT ok: {len(result.problems)} problem(s) in {result.events} events "
        f"({keyed}; {anchor or 'no anchor'})"
    )
    return 1


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``kb keys`` and ``kb audit`` on the main parser's subcommands."""
    keys = sub.add_parser("keys", help="create, revoke and list API keys")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    p = ksub.add_parser("create", help="create a key and print it once")
    p.add_argument(
        "--role",
        required=True,
        choices=list(ROLES),
        help="staff: console; trainer: + trainer page; admin: + ingest, keys, audit, /metrics",
    )
    p.add_argument("--name", required=True, help="who or what holds the key (unique)")
    p.add_argument(
        "--if-none", action="store_true", help="only if no active key exists (first start)"
    )
    p.add_argument(
        "--expires-days",
        type=float,
        default=None,
        help="stop working after this many days (default: never expires)",
    )
    p.set_defaults(func=cmd_keys_create)
    p = ksub.add_parser("revoke", help="revoke a key by name (takes effect at once)")
    p.add_argument("name", help="the key's name (see `kb keys list`)")
    p.set_defaults(func=cmd_keys_revoke)
    p = ksub.add_parser("list", help="list keys (names, roles, ids; never secrets)")
    p.add_argument("--active", action="store_true", help="only keys that still work")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_keys_list)

    audit = sub.add_parser("audit", help="export or verify the audit log")
    asub = audit.add_subparsers(dest="audit_command", required=True)
    p = asub.add_parser("export", help="write audit events as CSV or JSONL")
    p.add_argument("--since", default=None, help="ISO date or date-time (UTC unless given)")
    p.add_argument("--until", default=None, help="ISO date or date-time, exclusive")
    p.add_argument("--format", choices=["csv", "jsonl"], default=None, help="default: csv")
    p.add_argument("--out", type=Path, default=None, help="file (default: standard output)")
    p.set_defaults(func=cmd_audit_export)
    p = asub.add_parser(
        "verify", help="check the audit log's chain, its HMACs and its anchor; exit 1 if altered"
    )
    p.add_argument(
        "--anchor",
        type=Path,
        default=None,
        help="compare with this anchor file (a backup copy) instead of KB_AUDIT_ANCHOR",
    )
    p.set_defaults(func=cmd_audit_verify)


@contextmanager
def private_output(path: Path) -> Iterator[Path]:
    """A new file (0600) beside ``path`` for the caller to write, put in ``path``'s place when
    the block ends (an export of records or audit events: personal data). Replacing it, not
    writing into it, leaves no earlier file's wider permissions on it, and a failed write
    leaves the earlier file whole.

    Raises:
        InputError: ``path`` is a folder.
    """
    if path.is_dir():
        raise InputError(str(path), msg("files.is_dir"))
    if path.exists() and not path.is_file():
        yield path  # a pipe or a device (/dev/stdout): written into, nothing to replace
        return
    target = path.resolve() if path.is_symlink() else path  # a link keeps pointing there
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    partial = Path(name)
    try:
        yield partial
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
