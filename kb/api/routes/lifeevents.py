"""Life-event checklists (ライフイベント): ``GET /api/v1/lifeevents?q=...``.

A route of its own rather than a part of the search response: the search JSON stays as it
is, and the console asks for the checklist beside each search. It lists public procedures
only and changes nothing, so it is not audited; its query string, like the search's, never
reaches the access log (:mod:`kb.api.logs`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from kb.api.deps import SearcherDep, SettingsDep, StaffDep, StateDep
from kb.api.schemas import ErrorOut
from kb.api.schemas_briefs import LifeEventsOut
from kb.desk.lifeevents import LifeEventRecognizer, book_for, checklist_dict
from kb.ingest.procedure_terms import canonical_condition, canonical_event
from kb.search.searcher import Searcher

router = APIRouter(prefix="/api/v1", tags=["lifeevents"])


@router.get(
    "/lifeevents",
    response_model=LifeEventsOut,
    responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
async def lifeevents(
    searcher: SearcherDep,
    state: StateDep,
    settings: SettingsDep,
    principal: StaffDep,
    q: Annotated[str, Query(description="What the citizen said.")] = "",
    event: Annotated[
        list[str] | None, Query(description="Life events chosen by the counsellor.")
    ] = None,
    condition: Annotated[list[str] | None, Query(description="Ticked conditions.")] = None,
    ticked: Annotated[
        bool, Query(description="Filter by exactly the conditions given (none: none ticked).")
    ] = False,
) -> LifeEventsOut:
    """Recognise the life events in ``q`` and list their procedures for the ticked conditions.

    Without ``event`` the recognised events are used; without ``ticked`` the conditions
    recognised in ``q`` are pre-ticked (plus any ``condition`` given).
    """
    if len(q) > settings.max_query_chars:
        raise HTTPException(
            status_code=422,
            detail=f"q is {len(q)} characters long; at most {settings.max_query_chars}",
        )
    events = _canonical(event or (), canonical_event, "event")
    conditions = _canonical(condition or (), canonical_condition, "condition")
    return await state.run(_answer, searcher, q, events, conditions, ticked)


def _canonical(values: Sequence[str], resolve: Callable[[str], str | None], name: str) -> list[str]:
    out: list[str] = []
    for value in values:
        found = resolve(value)
        if found is None:
            raise HTTPException(status_code=422, detail=f"unknown {name} {value!r}")
        out.append(found)
    return out


def _answer(
    searcher: Searcher, q: str, events: list[str], conditions: list[str], ticked: bool
) -> LifeEventsOut:
    book = book_for(searcher)
    found = LifeEventRecognizer(searcher.tokenizer).recognize(q) if q.strip() else None
    recognized = list(found.events) if found else []
    pre = list(found.conditions) if found else []
    chosen = events or recognized
    use = conditions if ticked else list(dict.fromkeys(pre + conditions))
    data = checklist_dict(book.checklist(chosen, use))
    return LifeEventsOut(
        **data,
        recognized=recognized,
        recognized_conditions=pre,
        all_events=list(book.events),
    )
