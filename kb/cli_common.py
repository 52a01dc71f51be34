"""What every ``kb`` command shares: progress on the terminal, printing, the writer lock."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from kb.messages import msg
from kb.settings import Settings

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from kb.index.lock import LockHolder


class Progress:
    """tqdm bars keyed by stage on a terminal; plain start/finish lines in logs."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bars: dict[str, Any] = {}
        self._started: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            if stage not in self._started:
                self._started[stage] = time.perf_counter()
                line = msg("progress.start", stage=stage_name(stage), total=total)
                print(line, file=sys.stderr, flush=True)
            if done >= total:
                took = time.perf_counter() - self._started[stage]
                line = msg("progress.done", stage=stage_name(stage), seconds=took)
                print(line, file=sys.stderr, flush=True)
            return
        from tqdm import tqdm

        bar = self._bars.get(stage)
        if bar is None:
            bar = self._bars[stage] = tqdm(
                total=total, desc=stage_name(stage), unit="item", leave=True
            )
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


_STAGES = {
    "parse": "stage.parse",
    "mask": "stage.mask",
    "tokenize": "stage.tokenize",
    "embed": "stage.embed",
    "embed titles": "stage.embed_titles",
    "readings": "stage.readings",
    "index": "stage.index",
}
"""The stages of ingest and build (their progress callbacks' names) → catalogue keys."""


def stage_name(stage: str) -> str:
    """A stage as staff read it (``parse`` → ファイルの読み込み); another stage as named."""
    key = _STAGES.get(stage)
    return msg(key) if key is not None else stage


def say(line: str) -> None:
    """One line of a command's output (stdout, flushed: it may be read while the command runs)."""
    print(line, flush=True)


def writer_lock_waiting(settings: Settings, what: str) -> AbstractContextManager[LockHolder]:
    """The writer lock, waiting up to ``settings.writer_lock_wait`` and saying for whom."""
    from kb.index.lock import waiting_message, writer_lock

    def waiting(holder: LockHolder | None) -> None:
        message = waiting_message(holder, settings.writer_lock_wait)
        print(f"kb: {message}", file=sys.stderr, flush=True)

    return writer_lock(settings, what, wait=settings.writer_lock_wait, on_wait=waiting)


def clean_leftovers_noting(settings: Settings, held: LockHolder) -> None:
    from kb.index.update import clean_leftovers

    left = clean_leftovers(settings, held)
    if left:
        print(f"kb: {left.describe()}", file=sys.stderr, flush=True)


def has_index(settings: Settings) -> bool:
    """Whether an index serves from ``settings``' data folder."""
    from kb.index.folder import IndexRoot

    return IndexRoot(settings.index_root).has_index()


def stale_index_model(settings: Settings) -> str | None:
    """The model the serving index was built with, where kb would now serve with another one
    (``KB_MODEL`` changed, or the adapted model it was built with is gone); else ``None``."""
    from kb.embed.adapt import effective_model
    from kb.embed.embedder import manifest_model_id
    from kb.errors import IndexError_
    from kb.index.folder import IndexRoot

    try:
        built = IndexRoot(settings.index_root).current().manifest().model
    except IndexError_:
        return None
    return built if built != manifest_model_id(effective_model(settings)) else None
