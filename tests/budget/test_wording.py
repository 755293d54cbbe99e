"""A participatory budget's citizens fill ballots; they do not support ideas. The pages of a
budget call say so in each language: who may fill a ballot on the call page, why a citizen who
is not a verified resident may not (on the ballot page and when they try anyway), and the
heading of the idea page's panel."""

from sqlmodel import Session

from tests.budget.helpers import make_budget_call, make_project
from tests.factories import make_user
from tests.support import WebClient


def test_a_budget_call_speaks_of_ballots_not_supports_in_every_language(client: WebClient,
                                                                       session: Session) -> None:
    call = make_budget_call(session, total=100)
    call.vote_access = "residents"
    session.add(call)
    project = make_project(session, call, 60)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    expected = {
        "fr": ("Remplir un bulletin : les résidents vérifiés", "peuvent remplir un bulletin dans cet appel"),
        "nl": ("Een stembiljet invullen: alleen geverifieerde inwoners", "mogen in deze oproep een stembiljet"),
        "de": ("Einen Stimmzettel ausfüllen: nur verifizierte Einwohner", "dürfen in diesem Aufruf einen Stimmzettel"),
    }
    for lang, (rule, barred) in expected.items():
        headers = {"Accept-Language": lang}
        page = client.get(f"/calls/{call.slug}", headers=headers).text.replace("\u202f", " ")
        assert rule in page, lang
        assert "Soutenir des idées" not in page and "Ideeën steunen" not in page and "Ideen unterstützen" not in page
        ballot = client.get(f"/calls/{call.slug}/ballot", headers=headers).text
        assert barred in ballot, lang
        refused = client.submit(f"/calls/{call.slug}/ballot/add", {"idea_id": str(project.id)},
                                headers={**headers, "Accept": "application/json"})
        assert refused.status_code == 403 and barred in refused.json()["error"], lang
    # The idea page's panel (its heading is read by screen readers) is not about supporting.
    idea_page = client.get(f"/ideas/{project.id}").text
    assert "Ce projet dans le budget participatif" in idea_page and "Soutenir cette idée" not in idea_page
