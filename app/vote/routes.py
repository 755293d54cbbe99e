"""Supporting an idea, and taking the support back."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.account.sessions import current_user
from app.authz import Action
from app.call.models import VoteScope
from app.db import get_session
from app.errors import AppError
from app.i18n import N_, format_number, ngettext
from app.idea import queries as idea_queries
from app.vote import service
from app.vote.http import done, refuse, require_citizen

router = APIRouter(tags=["vote"], include_in_schema=False)

DbSession = Annotated[Session, Depends(get_session)]
ANCHOR = "vote"


def _state_json(state: service.VoteState) -> dict[str, object]:
    """What vote.js needs to update the panel, with the sentences already in the reader's language."""
    if state.scope == VoteScope.category:
        left = ngettext("You have {n} vote left in this theme.", "You have {n} votes left in this theme.", state.left)
    else:
        left = ngettext("You have {n} vote left in this call.", "You have {n} votes left in this call.", state.left)
    return {
        "voted": state.voted, "vote_count": state.vote_count, "votes_left": state.left, "limit": state.limit,
        "count_text": ngettext("{count} support", "{count} supports", state.vote_count,
                               count=format_number(state.vote_count)),
        "left_text": left,
    }


@router.post("/ideas/{idea_id}/vote", name="vote:cast")
def cast(request: Request, session: DbSession, idea_id: int) -> Response:
    user = current_user(request)
    try:
        idea, call = idea_queries.visible_idea(session, idea_id, user)
        require_citizen(user, Action.vote_cast, idea)
        assert user is not None
        state = service.cast_vote(session, idea=idea, call=call, user=user)
    except AppError as exc:
        return refuse(request, exc, idea_id, ANCHOR)
    session.commit()
    return done(request, idea_id, ANCHOR, N_("Thank you! You support this idea."), _state_json(state))


@router.post("/ideas/{idea_id}/vote/withdraw", name="vote:withdraw")
def withdraw(request: Request, session: DbSession, idea_id: int) -> Response:
    user = current_user(request)
    try:
        idea, call = idea_queries.visible_idea(session, idea_id, user)
        require_citizen(user, Action.vote_withdraw, idea)
        assert user is not None
        state = service.withdraw_vote(session, idea=idea, call=call, user=user)
    except AppError as exc:
        return refuse(request, exc, idea_id, ANCHOR)
    session.commit()
    return done(request, idea_id, ANCHOR, N_("Your support is withdrawn."), _state_json(state))
