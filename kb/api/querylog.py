"""Writing searches to the query log, after the response has gone out.

The routes hand the finished search to :func:`log_search` as a background task: masking and
the SQLite insert never delay an answer, and a failure to log is logged, never raised.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request

from kb.api.state import opened_once
from kb.search.searcher import Searcher
from kb.search.suggest import suggester_for
from kb.settings import Settings
from kb.trainer.querylog import log_record
from kb.trainer.service import Trainer
from kb.types import SearchResult

log = logging.getLogger(__name__)


def trainer_of(app: Any) -> Trainer:
    """The app's :class:`Trainer` (query log, topics, candidates), created on first use."""
    settings: Settings = app.state.settings
    return opened_once(app, "trainer", lambda: Trainer(settings))


def get_trainer(request: Request) -> Trainer:
    """:func:`trainer_of` the request's app."""
    return trainer_of(request.app)


def log_search(
    trainer: Trainer, source: str, query: str, result: SearchResult, searcher: Searcher
) -> None:
    """Mask and append one search to ``DATA_DIR/querylog.sqlite`` (errors are only logged)."""
    try:
        record = log_record(
            source, query, result, suggester_for(searcher).published_ids, searcher.tokenizer
        )
        trainer.query_log().add(record)
    except Exception:
        log.exception("could not write the query log")
