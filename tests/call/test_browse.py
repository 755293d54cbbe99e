"""Browsing: the home page, a call's page with its timeline, filters, sorts and pagination."""

import re

from sqlmodel import Session

from app.call.models import Phase
from app.clock import utcnow
from app.idea.models import IdeaStatus
from tests.factories import make_call, make_category, make_district, make_idea
from tests.support import WebClient

CARD_TITLE = re.compile(r'<h3 id="idea-\d+-title" class="idea-card-title"><a href="/ideas/(\d+)">')


def card_ids(html: str) -> list[int]:
    return [int(i) for i in CARD_TITLE.findall(html)]


def test_home_lists_open_calls_and_results_but_not_drafts(client: WebClient, session: Session) -> None:
    make_call(session, phase=Phase.voting, title="Réinventons Liège")
    make_call(session, phase=Phase.submissions, title="Quartiers à vivre")
    make_call(session, phase=Phase.results, title="Budget 2025")
    make_call(session, phase=Phase.draft, title="Appel secret")
    session.commit()
    page = client.get("/").text
    open_part, _, rest = page.partition("Résultats récents")
    assert "Réinventons Liège" in open_part and "Quartiers à vivre" in open_part
    assert "Budget 2025" in rest
    assert "Appel secret" not in page
    assert "Appels ouverts" in page


def test_call_page_shows_the_timeline_as_an_ordered_list(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.voting, title="Réinventons Liège")
    session.commit()
    page = client.get(f"/calls/{call.slug}").text
    timeline = page[page.index('<ol class="timeline">'):page.index("</ol>")]
    labels = re.findall(r'<span class="timeline-label">([^<]+)</span>', timeline)
    assert labels == ["Dépôt des idées", "Vote", "Analyse par la Ville", "Résultats", "Clôturé"]
    assert re.search(r'timeline-current" aria-current="step">\s*<span class="timeline-label">Vote', timeline)
    assert "Proposer une idée" not in page  # not in submissions any more
    # An administrator's override wins over the dates.
    call.phase_override = Phase.submissions
    session.add(call)
    session.commit()
    assert "Proposer une idée" in client.get(f"/calls/{call.slug}").text


def test_filters_by_theme_district_and_status(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.voting)
    green, mobility = make_category(session, call, name="Vert"), make_category(session, call, name="Mobilité")
    centre, jupille = make_district(session, name="Centre"), make_district(session, name="Jupille")
    a = make_idea(session, call, category=green, district=centre)
    b = make_idea(session, call, category=green, district=jupille, answer_status="accepted")
    c = make_idea(session, call, category=mobility, district=centre, winner=True)
    make_idea(session, call, category=green, district=centre, status=IdeaStatus.submitted)
    session.commit()
    url = f"/calls/{call.slug}"
    assert sorted(card_ids(client.get(url).text)) == sorted([a.id, b.id, c.id])
    assert sorted(card_ids(client.get(f"{url}?category={green.id}").text)) == sorted([a.id, b.id])
    assert sorted(card_ids(client.get(f"{url}?district={centre.id}").text)) == sorted([a.id, c.id])
    assert card_ids(client.get(f"{url}?category={green.id}&district={centre.id}").text) == [a.id]
    assert card_ids(client.get(f"{url}?status=accepted").text) == [b.id]
    # The selection stays private until the results are published: the filter lists nothing before.
    assert card_ids(client.get(f"{url}?status=winner").text) == []
    assert sorted(card_ids(client.get(f"{url}?status=unanswered").text)) == sorted([a.id, c.id])
    call.phase_override = Phase.results
    session.add(call)
    session.commit()
    assert card_ids(client.get(f"{url}?status=winner").text) == [c.id]
    # Nonsense values are ignored, never a 500.
    for junk in ("category=abc", "district=-1", "status=draft", "sort=evil", "page=zero", "page=99999999999999"):
        response = client.get(f"{url}?{junk}")
        assert response.status_code == 200, junk
    assert card_ids(client.get(f"{url}?status=draft").text) != []  # an unknown status filter shows all
    assert "Aucune idée ne correspond" in client.get(f"{url}?category=999999").text


def test_sorts_and_a_stable_random_order(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.voting)
    ideas = [make_idea(session, call, vote_count=n * 7 % 11, comment_count=n * 5 % 13) for n in range(20)]
    session.commit()
    url = f"/calls/{call.slug}"
    by_votes = sorted(ideas, key=lambda i: (-i.vote_count, -i.published_at.timestamp(), -i.id))  # type: ignore[union-attr,operator]
    assert card_ids(client.get(f"{url}?sort=supported").text) == [i.id for i in by_votes]
    by_comments = card_ids(client.get(f"{url}?sort=discussed").text)
    counts = {i.id: i.comment_count for i in ideas}
    assert [counts[i] for i in by_comments] == sorted(counts.values(), reverse=True)
    newest = card_ids(client.get(f"{url}?sort=newest").text)
    assert newest == sorted(newest, reverse=True)
    assert "rv_seed" not in client.cookies  # only the random order keeps a seed
    first = card_ids(client.get(f"{url}?sort=random").text)
    assert "rv_seed" in client.cookies
    assert card_ids(client.get(f"{url}?sort=random").text) == first  # same visitor, same order
    assert sorted(first) == sorted(i.id for i in ideas)
    orders = set()
    for seed in ("1", "2", "3"):
        client.cookies.set("rv_seed", seed)
        orders.add(tuple(card_ids(client.get(f"{url}?sort=random").text)))
    assert len(orders) > 1  # different visitors, different orders


def test_pagination_keeps_the_filters(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.voting)
    theme = make_category(session, call)
    start = utcnow()
    ideas = [make_idea(session, call, category=theme, published_at=start) for _ in range(30)]
    make_idea(session, call)  # another theme: filtered out
    session.commit()
    url = f"/calls/{call.slug}?category={theme.id}&sort=supported"
    first = client.get(url).text
    second = client.get(f"{url}&page=2").text
    assert len(card_ids(first)) == 24 and len(card_ids(second)) == 6
    assert sorted(card_ids(first) + card_ids(second)) == sorted(i.id for i in ideas)
    assert f'rel="next" href="/calls/{call.slug}?category={theme.id}&amp;sort=supported&amp;page=2"' in first
    assert 'rel="prev"' not in first and 'aria-current="page"' in first
    assert f'rel="prev" href="/calls/{call.slug}?category={theme.id}&amp;sort=supported&amp;page=1"' in second
    assert "(30)" in first
    # A page past the end shows the last page.
    assert card_ids(client.get(f"{url}&page=9").text) == card_ids(second)
