"""Typed factories for test data. They add and flush; the caller commits."""

import itertools
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from app.account.models import Role, User
from app.account.passwords import hash_password
from app.call.models import Call, Category, District
from app.clock import utcnow
from app.comment.models import Comment
from app.idea.models import Idea
from app.richtext import render_markdown

DEFAULT_PASSWORD = "un mot de passe solide"  # noqa: S105 - test credential
# Hashing with argon2 costs ~50 ms: do it once for every factory-made user.
_DEFAULT_HASH = hash_password(DEFAULT_PASSWORD)
_counter = itertools.count(1)


def make_user(session: Session, *, email: str | None = None, display_name: str | None = None,
              role: Role | str = Role.citizen, verified: bool = True, language: str = "fr",
              password: str | None = None) -> User:
    n = next(_counter)
    user = User(
        email=email or f"person{n}@example.org",
        display_name=display_name or f"Personne {n}",
        role=role,
        language=language,
        password_hash=hash_password(password) if password else _DEFAULT_HASH,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    session.flush()
    return user


# Calls and ideas -----------------------------------------------------------------------------

def make_call(session: Session, *, slug: str | None = None, title: str | None = None,
              phase: str = "submissions", premoderation: bool = False, ideas_per_citizen: int = 5,
              **fields: object) -> Call:
    """A call whose phase is `phase`, following the clock (no manual override)."""
    n = next(_counter)
    now = utcnow()
    day = timedelta(days=1)
    order = ["draft", "submissions", "voting", "review", "results", "closed"]
    index = order.index(phase)
    starts = {}
    for offset, name in enumerate(("submissions_start", "voting_start", "review_start", "results_start",
                                   "closes_at"), start=1):
        starts[name] = now - day * (index - offset + 1) if offset <= index else now + day * (offset - index)
    call = Call(slug=slug or f"appel-{n}", title=title or f"Appel {n}", premoderation=premoderation,
                ideas_per_citizen=ideas_per_citizen, **starts)
    if "description_md" in fields and "description_html" not in fields:  # as the call's form stores it
        fields["description_html"] = render_markdown(str(fields["description_md"]))
    for key, value in fields.items():
        setattr(call, key, value)
    session.add(call)
    session.flush()
    return call


def make_category(session: Session, call: Call, *, name: str | None = None) -> Category:
    n = next(_counter)
    assert call.id is not None
    category = Category(call_id=call.id, slug=f"theme-{n}", name=name or f"Thème {n}", position=n)
    session.add(category)
    session.flush()
    return category


def make_district(session: Session, *, name: str | None = None) -> District:
    n = next(_counter)
    district = District(slug=f"quartier-{n}", name=name or f"Quartier {n}", position=n)
    session.add(district)
    session.flush()
    return district


def make_idea(session: Session, call: Call, author: User | None = None, *, title: str | None = None,
              body: str = "Une idée détaillée pour améliorer la vie du quartier.", status: str = "published",
              category: Category | None = None, district: District | None = None, **fields: object) -> Idea:
    n = next(_counter)
    author = author or make_user(session)
    assert call.id is not None
    now = utcnow()
    idea = Idea(call_id=call.id, author_id=author.id, title=title or f"Idée numéro {n}", body_md=body,
                body_html=render_markdown(body), status=status,
                category_id=category.id if category else None, district_id=district.id if district else None,
                published_at=now if status in ("published", "merged") else None)
    for key, value in fields.items():
        setattr(idea, key, value)
    session.add(idea)
    session.flush()
    return idea


def insert_old_idea(session: Session, call: Call, *, title: str, body: str = "", idea_id: int | None = None) -> int:
    """A published idea in a database migrated to an older revision (migration tests), with only
    the columns every revision since 0037 has; returns its id. `make_idea` writes today's model,
    whose newer columns (the dialogue tallies' of 0041...) such a database does not have yet."""
    now = utcnow()
    idea = sa.table("idea", *(sa.column(name) for name in (
        "id", "call_id", "title", "body_md", "body_html", "status", "answer_html", "jury_note", "vote_count",
        "comment_count", "follower_count", "report_count", "created_at", "updated_at", "published_at")),
        sa.column("shortlisted", sa.Boolean), sa.column("winner", sa.Boolean))
    values = {"call_id": call.id, "title": title, "body_md": body, "body_html": render_markdown(body),
              "status": "published", "answer_html": "", "jury_note": "", "shortlisted": False, "winner": False,
              "vote_count": 0, "comment_count": 0, "follower_count": 0, "report_count": 0,
              "created_at": now, "updated_at": now, "published_at": now}
    if idea_id is not None:
        values["id"] = idea_id
    return int(session.execute(sa.insert(idea).values(values).returning(idea.c.id)).scalar_one())


def make_comment(session: Session, idea: Idea, author: User | None = None, *,
                 body: str = "Je soutiens, avec une précision sur le lieu exact.") -> Comment:
    """A published comment on `idea`, its counter kept as the comment service keeps it."""
    author = author or make_user(session)
    comment = Comment(idea_id=idea.id or 0, author_id=author.id, body_md=body, body_html=render_markdown(body),
                      language="fr")
    idea.comment_count += 1
    session.add_all([comment, idea])
    session.flush()
    return comment
