"""A call deleted from the database (not a path of the platform: by hand, or a future feature)
takes its ideas with it (ON DELETE CASCADE), and their votes: migration 0042's triggers follow the
cascade as they follow any delete, and the key figures still equal a recount. So do a vote given
to another person and an idea given to another author (core UPDATEs of `user_id`, `author_id`)."""

import sqlalchemy as sa
from sqlmodel import col

from app.call.models import Call
from app.db import Database
from app.idea.models import Idea
from app.pages.home import key_figures
from app.vote.models import Vote
from tests.factories import make_call, make_idea, make_user
from tests.pages.key_figures_oracle import recount


def _figures(db: Database) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    with db.autocommit_session() as s:
        read = key_figures(s, answered_share=0, median_days=None)
        return (read.ideas, read.participants, read.supports), recount(s)


def test_a_call_deleted_by_hand_takes_its_figures_with_it(db: Database) -> None:
    with db.transaction() as s:
        gone, kept = make_call(s, phase="voting", votes_per_citizen=9), make_call(s, phase="voting")
        author, voter, both = make_user(s), make_user(s), make_user(s)
        ideas = [make_idea(s, gone, author), make_idea(s, gone, both), make_idea(s, kept, both)]
        for idea, person in ((ideas[0], voter), (ideas[1], voter), (ideas[0], both), (ideas[2], voter)):
            s.add(Vote(idea_id=idea.id or 0, user_id=person.id or 0, call_id=idea.call_id))
            s.execute(sa.update(Idea).where(col(Idea.id) == idea.id).values(vote_count=Idea.vote_count + 1))
        gone_id, ids = gone.id, [i.id for i in ideas]
        people = (author.id, voter.id, both.id)
    assert _figures(db) == ((3, 3, 4),) * 2
    with db.transaction() as s:
        s.execute(sa.delete(Call).where(col(Call.id) == gone_id))
    kept_figures, counted = _figures(db)
    assert kept_figures == counted == (1, 2, 1)  # `author` no longer takes part; `both` still an author
    with db.transaction() as s:  # the last vote and idea passed to the one who took no part
        s.execute(sa.update(Vote).values(user_id=people[0]))
        s.execute(sa.update(Idea).where(col(Idea.id) == ids[2]).values(author_id=people[0]))
    kept_figures, counted = _figures(db)
    assert kept_figures == counted == (1, 1, 1)
