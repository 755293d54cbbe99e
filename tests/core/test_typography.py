"""French typography in the platform's own words (issue 15): a narrow no-break space before
`; : ! ?` and inside « guillemets », on pages, in e-mails and in the default legal pages; what
people write is left exactly as written."""

import html
import re

import pytest
from sqlmodel import Session

from app.typography import NNBSP, french, french_faults
from tests.factories import make_call, make_idea
from tests.support import WebClient


@pytest.mark.parametrize(("typed", "shown"), [
    ("Mot de passe oublié ?", f"Mot de passe oublié{NNBSP}?"),
    ("Bienvenue, {name}\u00a0!", f"Bienvenue, {{name}}{NNBSP}!"),  # a no-break space becomes narrow
    ("Pourquoi? Parce que!", f"Pourquoi{NNBSP}? Parce que{NNBSP}!"),  # a glued mark gets its space
    ("Note : oui ; non", f"Note{NNBSP}: oui{NNBSP}; non"),
    ("Dites « Liège »", f"Dites «{NNBSP}Liège{NNBSP}»"),
    ("Dites «Liège»", f"Dites «{NNBSP}Liège{NNBSP}»"),
    ('<a href="/x">le lien</a> :', f'<a href="/x">le lien</a>{NNBSP}:'),
    ("L'idée d'aujourd'hui", "L’idée d’aujourd’hui"),  # one apostrophe on a page, the typographic one
])
def test_the_rules(typed: str, shown: str) -> None:
    assert french(typed) == shown
    assert french(shown) == shown  # applied twice, nothing changes
    assert french_faults(typed) and not french_faults(shown)


@pytest.mark.parametrize("untouched", ["write:statuses et read:statuses", "https://liege.be/?lang=fr&x=1",
                                       "Il est 10:30.", "Voir {url}?page=2", "Ratio 4.5:1",
                                       "<a href='{url}'>", "'{name}'"])
def test_addresses_times_and_scopes_are_left_alone(untouched: str) -> None:
    assert french(untouched) == untouched


def _text(page: str) -> str:
    body = page.split("<main", 1)[1].split("</main>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("path", ["/account/login", "/account/register", "/account/password/forgot", "/privacy",
                                  "/accessibility"])
def test_french_pages_follow_the_rules(client: WebClient, path: str) -> None:
    page = client.get(f"{path}?lang=fr")
    assert page.status_code == 200, path
    text = _text(page.text)
    assert NNBSP in text, path
    assert not re.search(r"[ \u00a0][;:!?]", text), re.findall(r".{15}[ \u00a0][;:!?]", text)
    assert not re.search(r"\w'\w", text), re.findall(r".{15}\w'\w", text)  # one kind of apostrophe


def test_the_forgotten_password_link_reads_right(client: WebClient) -> None:
    assert f"Mot de passe oublié{NNBSP}?" in _text(client.get("/account/login?lang=fr").text)


def test_what_people_write_is_left_as_written(client: WebClient, session: Session) -> None:
    call = make_call(session)
    idea = make_idea(session, call, title="Pourquoi pas un kiosque ?", body="Oui : au parc !")
    session.commit()
    page = client.get(f"/ideas/{idea.id}?lang=fr").text
    assert "Pourquoi pas un kiosque ?" in page and "Oui : au parc !" in page


def test_other_languages_are_left_alone(client: WebClient) -> None:
    assert NNBSP not in client.get("/account/login?lang=en").text
