"""The public FAQ API behind the citizen widget: published FAQ entries and contacts only.

Whatever the query or the parameters, these routes search with
``Filters(kinds=("faq",), published_only=True)``, keep only ids of the published-FAQ set and
serialize through schemas that have no field for case, manual or staff-note text. Unknown
query parameters are ignored, never passed on.

Every route is rate limited per client address, by cost (:mod:`kb.api.ratelimit`): a search
pays for its query's length, a suggestion a fraction of a short search. Searches embed at most
``public_max_query_chars`` characters and take turns (``public_search_concurrency`` at once),
so citizens' traffic, or someone posing as many citizens, cannot take the cores from the
counsellors' searches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request

from kb.api.deps import FeedbackDep, SearcherDep, SettingsDep
from kb.api.metrics import count_search
from kb.api.proxies import IPV6_SITE_PREFIX, client_key, peer_host
from kb.api.querylog import get_trainer, log_search
from kb.api.ratelimit import (
    Busy,
    SearchGate,
    limit_key,
    priced,
    public_search_cost,
    rate_limited,
)
from kb.api.schemas import (
    ContactOut,
    ErrorOut,
    PublicDepartmentOut,
    PublicFaqOut,
    PublicFeedbackIn,
    PublicFeedbackOut,
    PublicSearchOut,
    PublicSuggestionOut,
    PublicSuggestOut,
)
from kb.api.state import opened_once
from kb.search.suggest import suggester_for
from kb.settings import Settings
from kb.store import FeedbackRecord
from kb.text.masking import mask_personal
from kb.types import Department, DocId, FaqResult, Filters

router = APIRouter(
    prefix="/public/v1",
    tags=["public"],
    dependencies=[Depends(rate_limited)],
    responses={429: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)

PUBLIC_FILTERS = Filters(kinds=("faq",), published_only=True)
"""The only filters the public API ever searches with."""


def search_gate(request: Request) -> SearchGate:
    """The app's public search gate, made on first use from its settings."""
    settings: Settings = request.app.state.settings
    return opened_once(request.app, "public_gate", lambda: SearchGate.from_settings(settings))


@router.get("/faq/search", response_model=PublicSearchOut, responses={422: {"model": ErrorOut}})
@priced(public_search_cost)
async def faq_search(
    searcher: SearcherDep,
    settings: SettingsDep,
    request: Request,
    background: BackgroundTasks,
    q: Annotated[str, Query(description="The citizen's question.")],
    k: Annotated[int | None, Query(ge=1, le=20)] = None,
) -> PublicSearchOut:
    """Published FAQ entries answering ``q``, each with its department's contact details.

    A question longer than ``public_max_query_chars`` is searched up to its last sentence end
    within the limit (the answer's ``query`` is what was searched), or refused with 422.

    When no published FAQ answers it (``answered`` false, :mod:`kb.search.confidence`), no
    FAQ is returned rather than the least bad one: the widget offers ``contact``, the city's
    general contact, instead.
    """
    max_chars = settings.public_max_query_chars
    limit = min(k or settings.public_max_results, settings.public_max_results)
    suggester = suggester_for(searcher)
    # An empty or over-long query raises QueryError in the search layer: the app maps it to 422.
    try:
        result = await search_gate(request).run(
            searcher.search,
            q,
            k=limit,
            filters=PUBLIC_FILTERS,
            max_chars=max_chars,
            cost=public_search_cost(request),
        )
    except Busy:
        # Held like a 429 (kb.api.ratelimit.charge), so that a crowd retrying at once slows.
        await asyncio.sleep(settings.reject_delay)
        raise HTTPException(
            status_code=503,
            detail="the FAQ search is busy; please retry in a moment",
            headers={"Retry-After": "1"},
        ) from None
    level = result.confidence.faq or "none"
    if level == "none":
        result = replace(result, faqs=())  # what the citizen sees, and what the log keeps
    if settings.query_log:
        # Masked and written after the response is sent; suggest (every keystroke) is not
        # logged: its prefixes would drown the finished questions.
        background.add_task(
            log_search, get_trainer(request), "public", result.query, result, searcher
        )
    # Belt and braces: the filter already keeps out unpublished and expired entries.
    faqs = [public_faq(f, searcher.departments) for f in result.faqs if suggester.is_public(f.id)]
    count_search(request.app, "public", bool(faqs))
    return PublicSearchOut(
        query=result.query,
        answered=bool(faqs),
        confidence=level if faqs else "none",
        faqs=faqs,
        contact=ContactOut.from_settings(settings),
    )


def public_faq(faq: FaqResult, departments: Mapping[str, Department]) -> PublicFaqOut:
    """An FAQ entry as the widget gets it (the trainer's preview serializes drafts with it too)."""
    dept = departments.get(faq.department)
    return PublicFaqOut(
        id=faq.id,
        question=faq.question,
        answer=faq.answer,
        category=faq.category,
        url=faq.url,
        department=PublicDepartmentOut(
            name=dept.name, phone=dept.phone, location=dept.location, hours=dept.hours
        )
        if dept
        else None,
    )


@router.get("/faq/suggest", response_model=PublicSuggestOut, responses={422: {"model": ErrorOut}})
def faq_suggest(
    searcher: SearcherDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="What has been typed so far.")] = "",
    limit: Annotated[int | None, Query(ge=1, le=20)] = None,
) -> PublicSuggestOut:
    """Published FAQ questions matching the partial query (no embedding: fast enough to type)."""
    searcher.check_query(q, allow_empty=True)
    n = min(limit or settings.suggest_max, settings.suggest_max)
    found = suggester_for(searcher).suggest(q, limit=n)
    return PublicSuggestOut(
        query=q, suggestions=[PublicSuggestionOut(id=s.id, question=s.question) for s in found]
    )


@router.post(
    "/faq/feedback",
    response_model=PublicFeedbackOut,
    status_code=201,
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
def faq_feedback(
    request: Request, body: PublicFeedbackIn, searcher: SearcherDep, store: FeedbackDep
) -> PublicFeedbackOut:
    """The citizen's answer to 「この回答は役に立ちましたか？」 for one published FAQ entry.

    All clients together record at most ``public_feedback_per_minute`` (503 beyond it): the
    per-address limit alone lets many addresses fill the feedback log. One address records at
    most a tenth of that (429 beyond it), so that it cannot take the whole budget.
    """
    busy = "feedback is busy; please retry later"
    # By /48: a white-box tester's /56 held 256 /64s, each with its own share.
    client = client_key(peer_host(request.scope), IPV6_SITE_PREFIX)
    limit_key(request.app.state.feedback_per_client, client, status=429, detail=busy)
    limit_key(request.app.state.feedback_budget, "all", status=503, detail=busy)
    if not suggester_for(searcher).is_public(body.faq_id):
        raise HTTPException(status_code=404, detail=f"no published FAQ {body.faq_id!r}")
    doc_id = DocId.of("faq", body.faq_id)
    store.add(
        FeedbackRecord(
            source="public",
            query=mask_personal(body.query, searcher.tokenizer),
            shown=(doc_id,),
            helped_id=doc_id,
            helpful=body.helpful,
        )
    )
    return PublicFeedbackOut(status="recorded")
