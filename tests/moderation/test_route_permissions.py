"""Every moderator and administrator route, listed from the application's router: a citizen
gets 403 and an anonymous visitor is sent to log in, for GET and for POST with a valid CSRF
token. Never a 200, never a change."""

import re

import pytest
from fastapi.routing import iter_route_contexts
from sqlmodel import Session

from app.account.models import User
from app.announce.models import Announcement, ChannelAccount, Delivery, NetworkReply
from app.clock import utcnow
from app.comment.models import Comment
from app.maps.models import MapPlace
from app.residents.models import VerificationRule
from tests.factories import make_category, make_district, make_user
from tests.moderation.helpers import audit_count, world
from tests.support import WebClient

PREFIXES = ("/moderation", "/admin")
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def staff_routes(client: WebClient) -> list[tuple[str, str]]:
    """(method, path) of every route under /moderation and /admin, as the app routes them
    (FastAPI keeps included routers nested: `iter_route_contexts` flattens them)."""
    found = []
    for context in iter_route_contexts(client.app.routes):
        path, methods = context.path, context.methods or set()
        if path and path.startswith(PREFIXES):
            found += [(method, path) for method in methods if method in ("GET", "POST")]
    return sorted(set(found))


def fill(path: str, ids: dict[str, object]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"add an existing value for {{{name}}} in this test (route {path})"
        return str(ids[name])

    return PARAM.sub(value, path)


@pytest.fixture
def arranged(session: Session) -> tuple[User, dict[str, object]]:
    w = world(session)
    category = make_category(session, w.call)
    district = make_district(session)
    comment = Comment(idea_id=w.idea.id, author_id=w.author.id, body_md="x", body_html="<p>x</p>")
    session.add(comment)
    other = make_user(session)
    announcement = Announcement(call_id=w.call.id, event="free", texts={"fr": "Une annonce"})
    session.add(announcement)
    channel = ChannelAccount(kind="facebook", label="Page", config={"page_id": "1", "language": "fr"})
    session.add(channel)
    session.commit()
    sent = Delivery(announcement_id=announcement.id, channel_id=channel.id, key="k" * 32)  # type: ignore[arg-type]
    session.add(sent)
    session.commit()
    reply = NetworkReply(delivery_id=sent.id, channel_id=channel.id, remote_id="1", posted_at=utcnow())  # type: ignore[arg-type]
    session.add(reply)
    rule = VerificationRule(provider_key="test", postal_code_claim="postal_code", postal_codes="4000")
    session.add(rule)
    place = MapPlace(name="Place Saint-Lambert", latitude=50.6455, longitude=5.5736)
    session.add(place)
    session.commit()
    ids: dict[str, object] = {
        "idea_id": w.idea.id, "comment_id": comment.id, "user_id": other.id, "call_id": w.call.id,
        "category_id": category.id, "district_id": district.id, "slug": w.call.slug,
        "announcement_id": announcement.id, "channel_id": channel.id, "delivery_id": sent.id,
        "reply_id": reply.id, "rule_id": rule.id, "kind": "privacy", "lang": "fr",
        "intake_id": 1, "digest": "0" * 64, "variant": "display",  # app.intake: refused before any lookup
        "place_id": place.id,
        "entry_id": 1, "question_id": 1,  # app.assistant: refused before any lookup
    }
    return w.citizen, ids


def test_the_router_has_moderation_and_admin_routes(client: WebClient) -> None:
    paths = {path for _method, path in staff_routes(client)}
    for expected in ("/moderation", "/moderation/ideas/{idea_id}/approve", "/moderation/ideas/{idea_id}/answer",
                     "/moderation/users/{user_id}/ban", "/admin/audit", "/admin/users", "/admin/dialogue"):
        assert expected in paths


def test_citizens_get_403_everywhere(client: WebClient, session: Session,
                                     arranged: tuple[User, dict[str, object]]) -> None:
    citizen, ids = arranged
    client.login_as(citizen)
    failures = []
    for method, path in staff_routes(client):
        url = fill(path, ids)
        response = client.get(url, follow_redirects=False) if method == "GET" else client.submit(url, {})
        if response.status_code != 403:
            failures.append(f"{method} {url} -> {response.status_code}")
    assert failures == []
    assert audit_count(session) == 0


def test_anonymous_visitors_are_sent_to_log_in(client: WebClient, session: Session,
                                               arranged: tuple[User, dict[str, object]]) -> None:
    _citizen, ids = arranged
    failures = []
    for method, path in staff_routes(client):
        url = fill(path, ids)
        response = client.get(url, follow_redirects=False) if method == "GET" else client.submit(url, {})
        location = response.headers.get("location", "")
        if response.status_code not in (302, 303) or not location.startswith("/account/login"):
            failures.append(f"{method} {url} -> {response.status_code} {location}")
    assert failures == []
    assert audit_count(session) == 0


def test_moderators_get_403_on_administration_pages(client: WebClient, session: Session,
                                                    arranged: tuple[User, dict[str, object]]) -> None:
    _citizen, ids = arranged
    moderator = world(session).moderator
    client.login_as(moderator)
    for method, path in staff_routes(client):
        if not path.startswith("/admin"):
            continue
        url = fill(path, ids)
        response = client.get(url, follow_redirects=False) if method == "GET" else client.submit(url, {})
        assert response.status_code == 403, f"{method} {url} -> {response.status_code}"
