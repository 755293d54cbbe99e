"""What the security tests share: a small world of people, a call, ideas and comments, and the
list of every route with its parameters, read from the application itself."""

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from sqlmodel import Session

from app.account.models import Role, User
from app.call.models import Call, Category, District
from app.clock import utcnow
from app.comment.models import Comment
from app.idea.models import Idea
from app.richtext import render_markdown
from tests.factories import make_call, make_category, make_district, make_idea, make_user


@dataclass
class RouteInfo:
    path: str
    methods: set[str]
    path_params: list[str]
    query_params: list[str]
    form_params: list[str]


def _params(dependant: Dependant | None) -> tuple[list[str], list[str], list[str]]:
    if dependant is None:
        return [], [], []
    path, query, body = ([p.alias for p in dependant.path_params], [p.alias for p in dependant.query_params],
                         [p.alias for p in dependant.body_params])
    for sub in dependant.dependencies:
        p, q, b = _params(sub)
        path += [x for x in p if x not in path]
        query += [x for x in q if x not in query]
        body += [x for x in b if x not in body]
    return path, query, body


def routes_with_params(app: FastAPI) -> list[RouteInfo]:
    """Every route with its declared path, query and form parameters (like tests.support.app_routes)."""
    found: list[RouteInfo] = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is None:
            continue
        for ctx in contexts():
            original = ctx.original_route
            methods = set(getattr(original, "methods", None) or ())
            path, query, body = _params(getattr(original, "dependant", None))
            found.append(RouteInfo(ctx.path or getattr(original, "path", ""), methods, path, query, body))
    return found


@dataclass
class World:
    call: Call
    category: Category
    district: District
    citizen: User
    author: User
    victim: User
    moderator: User
    admin: User
    idea: Idea
    draft: Idea
    hidden: Idea
    comment: Comment
    hidden_comment: Comment
    private_comment: Comment


def make_comment(session: Session, idea: Idea, author: User, body: str, **fields: Any) -> Comment:
    assert idea.id is not None
    comment = Comment(idea_id=idea.id, author_id=author.id, body_md=body, body_html=render_markdown(body), **fields)
    session.add(comment)
    session.flush()
    return comment


def make_world(session: Session, phase: str = "voting") -> World:
    call = make_call(session, phase=phase, slug="appel-securite")
    category = make_category(session, call)
    district = make_district(session)
    citizen = make_user(session, display_name="Citoyenne Curieuse")
    author = make_user(session, display_name="Autrice")
    victim = make_user(session, display_name="Victime")
    moderator = make_user(session, role=Role.moderator, display_name="Modératrice")
    admin = make_user(session, role=Role.admin, display_name="Administratrice")
    idea = make_idea(session, call, author, title="Une idée publique", category=category, district=district)
    draft = make_idea(session, call, author, title="Un brouillon secret", status="draft",
                      body="Texte secret du brouillon")
    hidden = make_idea(session, call, author, title="Une idée masquée", hidden_at=utcnow(),
                       body="Texte secret masqué")
    comment = make_comment(session, idea, victim, "Un commentaire visible")
    hidden_comment = make_comment(session, idea, victim, "Commentaire masqué SECRET-MASQUE", hidden_at=utcnow())
    private_comment = make_comment(session, hidden, victim, "Commentaire sur idée masquée SECRET-PRIVE")
    return World(call, category, district, citizen, author, victim, moderator, admin, idea, draft, hidden,
                 comment, hidden_comment, private_comment)
