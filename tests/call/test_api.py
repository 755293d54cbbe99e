"""Open data: the JSON API (documented in OpenAPI) and the CSV export."""

import csv
import io

from sqlmodel import Session

from app.call.models import Phase
from app.idea.models import IdeaStatus
from app.settings import Settings
from tests.factories import make_call, make_category, make_district, make_idea
from tests.idea.helpers import add_photo
from tests.support import WebClient


def test_api_is_documented_in_the_openapi_schema(client: WebClient) -> None:
    schema = client.get("/api/openapi.json").json()
    for path in ("/api/calls", "/api/calls/{slug}", "/api/calls/{slug}/ideas", "/api/ideas/{idea_id}"):
        assert "get" in schema["paths"][path], path
        assert set(schema["paths"][path]) == {"get"}  # read-only
    assert {"IdeaOut", "IdeaListOut", "CallOut", "CallDetailOut"} <= set(schema["components"]["schemas"])
    params = {p["name"] for p in schema["paths"]["/api/calls/{slug}/ideas"]["get"]["parameters"]}
    assert {"category", "district", "status", "sort", "page", "per_page"} <= params
    assert not any(p.startswith(("/admin", "/ideas", "/account")) for p in schema["paths"])


def test_api_lists_calls_and_public_ideas_with_filters_and_pages(client: WebClient, session: Session,
                                                                 settings: Settings) -> None:
    call = make_call(session, phase=Phase.voting, slug="reinventons", title="Réinventons")
    make_call(session, phase=Phase.draft, slug="secret")
    theme = make_category(session, call, name="Énergie")
    district = make_district(session, name="Chênée")
    ideas = [make_idea(session, call, category=theme if n % 2 else None, district=district, vote_count=n)
             for n in range(7)]
    make_idea(session, call, status=IdeaStatus.draft, title="Brouillon privé")
    photo = add_photo(session, settings, ideas[1], alt="Une rue")
    session.commit()

    calls = client.get("/api/calls").json()
    assert [c["slug"] for c in calls] == ["reinventons"]
    assert calls[0]["phase"] == "voting" and calls[0]["ideas_url"].endswith("/api/calls/reinventons/ideas")
    detail = client.get("/api/calls/reinventons").json()
    assert detail["categories"] == [{"id": theme.id, "slug": theme.slug, "name": "Énergie", "description": ""}]
    assert client.get("/api/calls/secret").status_code == 404
    assert client.get("/api/calls/secret").json()["status"] == 404

    page = client.get("/api/calls/reinventons/ideas", params={"per_page": 3, "sort": "supported"}).json()
    assert (page["total"], page["pages"], page["page"]) == (7, 3, 1)
    assert [i["vote_count"] for i in page["items"]] == [6, 5, 4]
    last = client.get("/api/calls/reinventons/ideas", params={"per_page": 3, "sort": "supported", "page": 3}).json()
    assert [i["vote_count"] for i in last["items"]] == [0]
    themed = client.get("/api/calls/reinventons/ideas", params={"category": theme.id}).json()
    assert themed["total"] == 3 and all(i["category"]["name"] == "Énergie" for i in themed["items"])
    assert "Brouillon privé" not in client.get("/api/calls/reinventons/ideas?per_page=100").text
    one = client.get(f"/api/ideas/{ideas[1].id}").json()
    assert one["photos"] == [f"http://testserver/ideas/{ideas[1].id}/photos/{photo.id}/display"]
    assert one["district"]["name"] == "Chênée" and one["url"] == f"http://testserver/ideas/{ideas[1].id}"
    assert client.get("/api/calls/reinventons/ideas", params={"per_page": 1000}).status_code == 422
    assert client.get("/api/ideas/999999").status_code == 404


def test_csv_export_of_public_ideas(client: WebClient, session: Session) -> None:
    call = make_call(session, phase=Phase.results, slug="budget")
    theme = make_category(session, call, name="Parcs")
    make_idea(session, call, title="Des bancs au parc", category=theme, answer_status="accepted", vote_count=12)
    make_idea(session, call, title="Idée rejetée", status=IdeaStatus.rejected)
    session.commit()
    response = client.get("/calls/budget/ideas.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="budget-ideas.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == 1
    assert (rows[0]["title"], rows[0]["category"], rows[0]["answer_status"], rows[0]["votes"]) == (
        "Des bancs au parc", "Parcs", "accepted", "12")
