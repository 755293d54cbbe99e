"""Links come back from social networks and newsletters with a click identifier or campaign
tags (`?fbclid=...`, `?utm_source=...`): the edge takes them out of the query string
(app.campaign_params). A visitor from Facebook is served the page kept for everyone, and no
link of the page carries their click's identifier."""

import secrets

from sqlmodel import Session

from app.campaign_params import without_campaign_params
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient


def _without_id(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("x-request-id", "date")}


def test_each_click_from_a_network_is_served_the_page_kept_for_everyone(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Budget participatif 2027")
    make_idea(session, call, title="Un banc au parc")
    session.commit()
    path = f"/calls/{call.slug}"
    client.get(path)
    plain = client.get(path)  # kept by the first visit (which also gave this client its cookies)
    assert plain.headers["x-page-cache"] == "hit"
    for query in (f"fbclid={secrets.token_urlsafe(40)}", f"gclid={secrets.token_hex(16)}",
                  "utm_source=mastodon&utm_medium=social&utm_campaign=resultats-2027"):
        clicked = client.get(f"{path}?{query}")
        assert clicked.status_code == 200
        assert clicked.headers["x-page-cache"] == "hit", query  # not a page of its own
        assert clicked.content == plain.content and _without_id(dict(clicked.headers)) == _without_id(
            dict(plain.headers))


def test_the_other_parameters_are_kept_in_their_order(client: WebClient, session: Session) -> None:
    call = make_call(session)
    make_idea(session, call, title="Des arbres rue Féronstrée")
    session.commit()
    path = f"/calls/{call.slug}"
    sorted_page = client.get(f"{path}?sort=supported&utm_source=newsletter&status=published")
    assert sorted_page.content == client.get(f"{path}?sort=supported&status=published").content
    assert "utm_source" not in sorted_page.text


def test_a_logged_in_citizens_page_links_carry_no_click_identifier(client: WebClient, session: Session) -> None:
    call = make_call(session)
    citizen = make_user(session)
    session.commit()
    client.login_as(citizen)
    click = secrets.token_urlsafe(30)
    page = client.get(f"/calls/{call.slug}?fbclid={click}&page=1")
    assert page.status_code == 200
    assert click not in page.text and "fbclid" not in page.text


def test_which_parameters_are_taken_out() -> None:
    assert without_campaign_params(b"") == b""
    assert without_campaign_params(b"page=2") == b"page=2"
    assert without_campaign_params(b"fbclid=abc") == b""
    assert without_campaign_params(b"a=1&utm_source=x&b=2&fbclid=y&utm_campaign") == b"a=1&b=2"
    assert without_campaign_params(b"utm_content=x&&category=3") == b"category=3"
    # Names that only look like them, and values that are such names, are kept.
    for kept in (b"fbclidx=1", b"myutm_source=1", b"q=utm_source", b"q=fbclid&x=gclid", b"%66bclid=1"):
        assert without_campaign_params(kept) == kept
