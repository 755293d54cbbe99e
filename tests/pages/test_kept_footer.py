"""The layout's footer is made once per process for each language, city identity and page kind
(app.web.kept_layout): each language gets its own, the assistant's page has no launcher while
every other page has one, whichever was drawn first, and the city's new name shows at once."""

from sqlmodel import Session

from app import web
from app.identity.models import CityIdentity
from app.identity.service import ROW_ID
from tests.factories import make_call, make_user
from tests.support import WebClient


def _footer(page: str) -> str:
    return page.split('<footer class="site-footer">', 1)[1]


def test_the_kept_footer_follows_the_language_the_page_and_the_identity(client: WebClient, session: Session) -> None:
    call = make_call(session)
    citizen = make_user(session, display_name="Amandine Lejeune")
    session.commit()
    web.LAYOUT_KEPT.clear()
    assistant = client.get("/assistant").text
    assert 'id="assistant-launch"' not in assistant and 'id="assistant-panel-template"' not in assistant
    french = client.get(f"/calls/{call.slug}").text
    assert 'id="assistant-launch"' in french and "Politique de confidentialité" in _footer(french)
    english = client.get(f"/calls/{call.slug}?lang=en").text
    assert "Privacy notice" in _footer(english) and "Politique de confidentialité" not in _footer(english)
    assert 'id="assistant-launch"' not in client.get("/assistant").text

    client.login_as(citizen)  # nothing of the person in what is kept
    assert "Amandine" not in _footer(client.get(f"/calls/{call.slug}?lang=fr").text)
    assert not any("Amandine" in html or "csrf" in html for html in web.LAYOUT_KEPT.values())

    with client.db.transaction() as writing:  # the city's identity changes: the footer follows
        writing.add(CityIdentity(id=ROW_ID, platform_name="Participation Liège", city_name="Liège",
                                 primary_color="#0b5c4f", accent_color="#07443a"))
    footer = _footer(client.get(f"/calls/{call.slug}").text)
    assert "Participation Liège, la plateforme de participation de Liège" in footer.replace("\u202f", " ")
