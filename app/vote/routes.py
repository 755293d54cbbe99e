"""Supporting an idea, and taking the support back."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from app import links
from app.authz import Action, require_citizen, require_taking_part
from app.call.models import VoteScope
from app.db import takes_own_turn
from app.deps import CitizenUser, CurrentUser, DbSession
from app.errors import AppError
from app.i18n import N_, format_number, ngettext
from app.idea import queries as idea_queries
from app.residents import service as residents
from app.residents.models import Part
from app.security import safe_next
from app.vote import mine, service
from app.web import answers_without_page, render
from app.web_answers import done, refuse

router = APIRouter(tags=["vote"], include_in_schema=False)

ANCHOR = "vote"


def back_to_list(next_path: str, call_slug: str | None) -> str | None:
    """Where a support given or withdrawn from a list comes back: `next_path` (the list, its
    filters and the card's anchor) when it is a page of that call or "My supports", else None
    (the idea page). Only those pages are accepted, so `next` can send nobody elsewhere."""
    if not next_path or call_slug is None:
        return None
    target = safe_next(next_path, default="")
    for page in (links.path("call:detail", slug=call_slug), links.path("vote:mine")):
        if target == page or target.startswith((page + "?", page + "#")):
            return target
    return None


def _state_json(state: service.VoteState) -> dict[str, object]:
    """The new state for a script (inplace.js says the message and then reloads the page's
    parts; other scripts may use the numbers), sentences already in the reader's language."""
    if state.scope == VoteScope.category:
        left = ngettext("You have {n} support left in this theme.", "You have {n} supports left in this theme.",
                        state.left)
    else:
        left = ngettext("You have {n} support left in this call.", "You have {n} supports left in this call.",
                        state.left)
    return {
        "voted": state.voted, "vote_count": state.vote_count, "votes_left": state.left, "limit": state.limit,
        "count_text": ngettext("{count} support", "{count} supports", state.vote_count,
                               count=format_number(state.vote_count)),
        "left_text": left,
    }


@router.post("/ideas/{idea_id}/vote", name="vote:cast")
@takes_own_turn
@answers_without_page
async def cast(request: Request, session: DbSession, user: CurrentUser, idea_id: int,
               next: Annotated[str, Form()] = "") -> Response:
    """Support an idea: everything read and written in one trip to the thread pool, the SQLite
    write turn held for that trip only (app.db.Database.write); the visitor, read before it,
    is read again under the locks (app.vote.service.cast_vote)."""
    back: list[str | None] = [None]

    def support() -> service.VoteState:
        idea, call = idea_queries.visible_idea(session, idea_id, user)
        back[0] = back_to_list(next, call.slug)
        voter = require_citizen(user, Action.vote_cast, idea)
        require_taking_part(voter, residents.taking(session, voter, call, Part.vote))
        residents.take_part(session, user=voter, call=call, part=Part.vote)
        state = service.cast_vote(session, idea=idea, call=call, user=voter)
        session.commit()
        return state

    try:
        state = await request.app.state.db.write(session, support)
    except AppError as exc:
        return refuse(request, exc, idea_id, ANCHOR, back[0])
    return done(request, idea_id, ANCHOR, N_("Thank you! You support this idea."), _state_json(state), back[0])


@router.post("/ideas/{idea_id}/vote/withdraw", name="vote:withdraw")
@takes_own_turn
@answers_without_page
async def withdraw(request: Request, session: DbSession, user: CurrentUser, idea_id: int,
                   next: Annotated[str, Form()] = "") -> Response:
    """Take a support back, as `cast`: one trip, the write turn held for it only."""
    back: list[str | None] = [None]

    def take_back() -> service.VoteState:
        idea, call = idea_queries.visible_idea(session, idea_id, user)
        back[0] = back_to_list(next, call.slug)
        voter = require_citizen(user, Action.vote_withdraw, idea)
        state = service.withdraw_vote(session, idea=idea, call=call, user=voter)
        session.commit()
        return state

    try:
        state = await request.app.state.db.write(session, take_back)
    except AppError as exc:
        return refuse(request, exc, idea_id, ANCHOR, back[0])
    return done(request, idea_id, ANCHOR, N_("Your support is withdrawn."), _state_json(state), back[0])


@router.get("/supports/mine", name="vote:mine")
def my_supports(request: Request, session: DbSession, user: CitizenUser) -> HTMLResponse:
    """The signed-in person's supports, call by call, with what is used and left under each
    limit while voting is open (app.vote.mine)."""
    return render(request, "vote/mine.html", {"calls": mine.supports_of(session, user)})
