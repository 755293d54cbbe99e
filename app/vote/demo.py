"""Demonstration votes, comment threads and follows by the demo citizens on the demo ideas.

Runs after the ideas seeder. Rows are written directly (the demo happens "in the past",
whatever each call's phase is today) within each call's vote limits; the counters are then
set from the rows, so they are equal by construction.
"""

import random
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app import links
from app.account.models import User
from app.call.models import Call, Phase, VoteScope
from app.call.phases import current_phase
from app.clock import utcnow
from app.comment.models import Comment
from app.demo_context import DemoContext
from app.follow.models import Follow
from app.idea.models import Idea, IdeaStatus
from app.notify.models import Notification, NotificationKind
from app.richtext import render_markdown
from app.vote.models import Vote

VOTING_SEEN = frozenset({Phase.voting, Phase.review, Phase.results, Phase.closed})

THREADS = (
    ("Excellente idée ! J'habite le quartier et c'est exactement ce qui manque.",
     "Tout à fait d'accord. Il faudrait aussi penser aux personnes à mobilité réduite.",
     "Bonne remarque : un accès **de plain-pied** serait indispensable."),
    ("Combien cela coûterait-il ? Ce serait bien d'avoir une estimation.",
     "La Ville a déjà chiffré un projet semblable à Sainte-Walburge, autour de 40 000 €.",
     None),
    ("J'ai un doute : qui s'occupera de l'entretien au quotidien ?",
     "Les écoles du quartier pourraient s'en charger avec un comité d'habitants.",
     "Le comité de quartier de Saint-Léonard est partant, on en a parlé hier."),
    ("Je soutiens ! Et pourquoi ne pas l'étendre à d'autres quartiers ?", None, None),
)


def _public_ideas(session: Session) -> list[Idea]:
    return list(session.exec(
        select(Idea).where(Idea.status == IdeaStatus.published, col(Idea.hidden_at).is_(None))
        .order_by(col(Idea.call_id), col(Idea.id))
    ).all())


def _votes(session: Session, ideas: list[Idea], calls: dict[int, Call], citizens: list[User],
           rng: random.Random) -> set[tuple[int, int]]:
    """(idea id, user id) of every vote added, within each call's limit per call or theme."""
    cast: set[tuple[int, int]] = set()
    by_call: dict[int, list[Idea]] = defaultdict(list)
    for idea in ideas:
        by_call[idea.call_id].append(idea)
    for call_id, call_ideas in by_call.items():
        call = calls[call_id]
        if current_phase(call) not in VOTING_SEEN and not call.voting_during_submissions:
            continue
        for person in citizens:
            assert person.id is not None
            used: dict[int | None, int] = defaultdict(int)
            wanted = rng.sample(call_ideas, k=min(len(call_ideas), rng.randint(1, max(call.votes_per_citizen, 1))))
            for idea in wanted:
                scope_key = idea.category_id if call.vote_scope == VoteScope.category else None
                if idea.id is None or idea.author_id == person.id or used[scope_key] >= call.votes_per_citizen:
                    continue
                used[scope_key] += 1
                session.add(Vote(idea_id=idea.id, user_id=person.id, call_id=call_id, category_id=idea.category_id,
                                 created_at=utcnow() - timedelta(hours=rng.randint(1, 96))))
                cast.add((idea.id, person.id))
    return cast


def _threads(session: Session, ideas: list[Idea], citizens: list[User], camille: User) -> set[tuple[int, int]]:
    """Comment threads on a few ideas; (idea id, user id) of every commenter."""
    wrote: set[tuple[int, int]] = set()
    now = utcnow()
    for n, idea in enumerate(ideas[:8]):
        assert idea.id is not None
        texts = THREADS[n % len(THREADS)]
        writers = [citizens[(n + k) % len(citizens)] for k in range(3)]
        top: Comment | None = None
        previous: Comment | None = None
        for depth, (text, writer) in enumerate(zip(texts, writers, strict=True)):
            if text is None:
                break
            comment = Comment(idea_id=idea.id, author_id=writer.id, body_md=text, body_html=render_markdown(text),
                              parent_id=top.id if top else None, reply_to_id=previous.id if previous else None,
                              created_at=now - timedelta(hours=48 - n * 3 - depth))
            session.add(comment)
            session.flush()
            assert comment.id is not None and writer.id is not None
            wrote.add((idea.id, writer.id))
            if camille.id is not None and previous is not None and previous.author_id == camille.id \
                    and writer.id != camille.id:
                session.add(Notification(user_id=camille.id, kind=NotificationKind.reply, idea_id=idea.id,
                                         comment_id=comment.id, actor_id=writer.id,
                                         subject=idea.title, link=links.comment_path(idea.id, comment.id)))
            top = top or comment
            previous = comment
    return wrote


def seed_votes_and_comments(session: Session, context: DemoContext) -> None:
    ideas = _public_ideas(session)
    citizens = [c for c in (context.citizens or [context.citizen]) if c.id is not None]
    if not ideas or not citizens:
        return  # nothing to vote on yet: the ideas seeder did not run
    rng = random.Random(2030)  # the same demo every time
    calls = {c.id: c for c in session.exec(select(Call)).all() if c.id is not None}
    voted = _votes(session, ideas, calls, citizens, rng)
    commented = _threads(session, ideas, citizens, context.citizen)
    # Authors follow their ideas; of those who supported or commented, some chose to follow too.
    chose = {pair for pair in sorted(voted | commented) if rng.random() < 0.4}
    followers = {(i.id or 0, i.author_id) for i in ideas if i.author_id is not None} | chose
    for idea_id, user_id in sorted(followers):
        session.add(Follow(idea_id=idea_id, user_id=user_id))
    session.flush()
    # Counters from the rows, in SQL: equal by construction.
    session.execute(update(Idea).values(
        vote_count=select(func.count()).select_from(Vote).where(Vote.idea_id == Idea.id).scalar_subquery(),
        comment_count=select(func.count()).select_from(Comment)
        .where(Comment.idea_id == Idea.id, col(Comment.deleted_at).is_(None), col(Comment.hidden_at).is_(None))
        .scalar_subquery(),
        follower_count=select(func.count()).select_from(Follow).where(Follow.idea_id == Idea.id).scalar_subquery(),
    ))
