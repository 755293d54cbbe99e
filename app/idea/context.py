"""What the idea page and idea cards need from votes, comments and following, built in a
few queries: `queries.idea_page_context` adds these keys to its context (a call's list reads its
viewer's supports in one statement of its own: app.call.queries.viewer_part).

It lives with the ideas because the idea page is theirs; it reads the other domains' services
(votes, comments, follows), which never import it back."""

from typing import Any

from sqlmodel import Session

from app.account.models import User
from app.authz import Action, can
from app.call.models import Call
from app.call.phases import accepts_comments
from app.comment import service as comment_service
from app.follow import service as follow_service
from app.idea.models import Idea
from app.intake import service as intake_service
from app.intake.models import RECEIVED_LABELS
from app.residents import service as residents
from app.residents.models import Part
from app.vote import service as vote_service


def idea_page_extras(session: Session, *, idea: Idea, call: Call, viewer: User | None) -> dict[str, Any]:
    """The idea page's panels for `viewer` (None: an anonymous visitor): `vote_panel` (a
    VoteState), `may_vote`, `resident_rule_met` (the call's access rule for votes: False when it
    is for verified residents and the viewer is not one), `following`, `comment_threads`,
    `comments_open`, `may_comment`; `intake` (app.intake: how an idea entered for a resident
    came in and the name they chose, None for one proposed on the platform) and its labels."""
    assert idea.id is not None
    return {
        "vote_panel": vote_service.vote_state(session, user=viewer, idea=idea, call=call),
        "may_vote": can(viewer, Action.vote_cast, idea),
        "resident_rule_met": residents.may_take_part(session, viewer, call, Part.vote),
        "following": viewer is not None and viewer.id is not None
        and follow_service.is_following(session, idea_id=idea.id, user_id=viewer.id),
        "comment_threads": comment_service.threads(session, idea_id=idea.id),
        "comments_open": accepts_comments(call),
        "may_comment": can(viewer, Action.comment_create, idea),
        "intake": intake_service.intake_of(session, idea.id),
        "intake_received": RECEIVED_LABELS,
    }

