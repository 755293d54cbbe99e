"""The demonstration has votes and comment threads, with counters equal to the rows."""

from collections import Counter

from sqlmodel import Session, func, select

from app import demo
from app.call.models import Call, VoteScope
from app.comment.models import Comment
from app.db import Database
from app.follow.models import Follow
from app.idea.models import Idea
from app.settings import Settings
from app.vote.models import Vote


def test_demo_votes_and_threads_keep_counters_equal_to_rows(db: Database, settings: Settings,
                                                            session: Session) -> None:
    assert demo.seed(db, settings)
    session.expire_all()
    ideas = session.exec(select(Idea)).all()
    votes = session.exec(select(Vote)).all()
    comments = session.exec(select(Comment)).all()
    assert len(votes) > 20 and len(comments) >= 8
    assert any(c.parent_id is not None and c.reply_to_id != c.parent_id for c in comments)  # deeper replies
    votes_per_idea = Counter(v.idea_id for v in votes)
    comments_per_idea = Counter(c.idea_id for c in comments if c.deleted_at is None and c.hidden_at is None)
    follows = Counter(f.idea_id for f in session.exec(select(Follow)).all())
    for idea in ideas:
        assert idea.vote_count == votes_per_idea[idea.id]
        assert idea.comment_count == comments_per_idea[idea.id]
        assert idea.follower_count == follows[idea.id]
    calls = {c.id: c for c in session.exec(select(Call)).all()}
    per_scope = Counter(
        (v.user_id, v.call_id, v.category_id if calls[v.call_id].vote_scope == VoteScope.category else None)
        for v in votes)
    for (_user, call_id, _scope), used in per_scope.items():
        assert used <= calls[call_id].votes_per_citizen
    assert session.exec(select(func.count()).select_from(Vote)).one() == len({(v.idea_id, v.user_id) for v in votes})
