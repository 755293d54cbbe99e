"""The funded projects applied as a budget call's selection during review stay private until
the results are published: no "Selected" tag on the call's cards or the idea page, no `winner`
or `shortlisted` in the open-data API, and no filter that lists them (an attacker asking
`status=winner` learns nothing)."""

from sqlmodel import Session

from app.call.models import Call
from app.maps.models import IdeaLocation
from tests.budget.helpers import cast_ballot, make_budget_call, make_project
from tests.factories import make_user
from tests.support import WebClient


def _winner_ids(client: WebClient, slug: str) -> tuple[list[int], int, int, int, int, bool, bool]:
    """What the public learns of the selection: ideas flagged in the API, winners and shortlisted
    by the API's filter, winners on the call's GeoJSON and on the map of every call by the same
    filter, a "Selected" tag on the call's map and on the map of every call."""
    data = client.get(f"/api/calls/{slug}/ideas").json()
    flagged = [item["id"] for item in data["items"] if item["winner"] or item["shortlisted"]]
    winners = client.get(f"/api/calls/{slug}/ideas", params={"status": "winner"}).json()["total"]
    shortlisted = client.get(f"/api/calls/{slug}/ideas", params={"status": "shortlisted"}).json()["total"]
    located = len(client.get(f"/api/calls/{slug}/ideas.geojson", params={"status": "winner"}).json()["features"])
    everywhere = client.get("/map", params={"status": "winner"}).text.count('class="tag tag-winner"')
    return (flagged, winners, shortlisted, located, everywhere, "tag-winner" in client.get(f"/calls/{slug}/map").text,
            "tag-winner" in client.get("/map").text)


def test_funded_projects_applied_in_review_are_not_public_before_the_results(client: WebClient,
                                                                             session: Session) -> None:
    call = make_budget_call(session, total=100, phase="review")
    park = make_project(session, call, 70, title="Un parc")
    road = make_project(session, call, 50, title="Une rue")
    for idea in (park, road):
        session.add(IdeaLocation(idea_id=idea.id, latitude=50.64, longitude=5.57, label="Place"))
    cast_ballot(session, call, [park])
    cast_ballot(session, call, [park])
    cast_ballot(session, call, [road])
    moderator = make_user(session, role="moderator")
    session.commit()

    client.login_as(moderator)
    assert client.submit(f"/moderation/calls/{call.id}/budget-results").status_code == 303
    client.cookies.clear()

    assert _winner_ids(client, call.slug) == ([], 0, 0, 0, 0, False, False)
    assert "tag-winner" not in client.get(f"/calls/{call.slug}").text
    assert "tag-winner" not in client.get(f"/calls/{call.slug}", params={"status": "winner"}).text
    assert "tag-winner" not in client.get(f"/ideas/{park.id}").text
    assert client.get(f"/api/ideas/{park.id}").json()["winner"] is False

    client.login_as(moderator)
    assert client.submit(f"/moderation/calls/{call.id}/publish-results", {"confirm": "yes"}).status_code == 303
    session.expire_all()
    assert session.get(Call, call.id).phase_override == "results"
    client.cookies.clear()
    assert _winner_ids(client, call.slug) == ([park.id], 1, 1, 1, 1, True, True)
    assert "tag-winner" in client.get(f"/ideas/{park.id}").text
    assert "tag-winner" in client.get(f"/calls/{call.slug}").text
