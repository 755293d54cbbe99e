"""The legal and trust pages (issue 15): a privacy notice, terms of use with the moderation
charter, an accessibility statement and a contact page, in all four interface languages,
linked from every page's footer and from the registration form; administrators rewrite them."""

import re

import pytest
from sqlmodel import Session, select

from app.account.models import Role
from app.audit import AuditEntry
from app.pages.models import LegalPage
from tests.factories import make_user
from tests.support import WebClient

PAGES = ("/privacy", "/terms", "/accessibility", "/contact")
# Each page's title in each language: what a visitor sees as the page's heading.
TITLES = {
    "fr": ("Politique de confidentialité", "Conditions d’utilisation et charte de modération",
           "Déclaration d’accessibilité", "Contact"),
    "en": ("Privacy notice", "Terms of use and moderation charter", "Accessibility statement", "Contact"),
    "nl": ("Privacyverklaring", "Gebruiksvoorwaarden en moderatiecharter", "Toegankelijkheidsverklaring", "Contact"),
    "de": ("Datenschutzerklärung", "Nutzungsbedingungen und Moderationscharta", "Erklärung zur Barrierefreiheit",
           "Kontakt"),
}
# A phrase of each default text, per language, proving the page is written in that language.
PHRASES = {
    "fr": ("Autorité de protection des données", "Chaque idée reçoit une réponse", "partiellement conforme",
           "délégué à la protection des données"),
    "en": ("Data Protection Authority", "Every idea gets an answer", "partially compliant", "data protection officer"),
    "nl": ("Gegevensbeschermingsautoriteit", "Elk idee krijgt een antwoord", "gedeeltelijk",
           "functionaris voor gegevensbescherming"),
    "de": ("Datenschutzbehörde", "Jede Idee erhält eine Antwort", "teilweise konform", "Datenschutzbeauftragte"),
}


def _h1(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, flags=re.S)
    assert found is not None
    return " ".join(found.group(1).split()).replace("&#39;", "'")


@pytest.mark.parametrize("lang", ["fr", "en", "nl", "de"])
def test_every_legal_page_exists_in_every_language_and_is_in_every_footer(client: WebClient, lang: str) -> None:
    for path, title, phrase in zip(PAGES, TITLES[lang], PHRASES[lang], strict=True):
        response = client.get(f"{path}?lang={lang}")
        assert response.status_code == 200, path
        assert _h1(response.text) == title
        assert phrase in response.text.replace("&#39;", "'"), (path, phrase)
        assert "{session_days}" not in response.text
    for page in ("/", "/account/login", "/privacy", "/announcements"):
        footer = client.get(page).text.split('<footer class="site-footer">')[1]
        for path in PAGES:
            assert f'href="{path}"' in footer, (page, path)


def test_the_privacy_notice_states_the_platforms_own_session_length(client: WebClient) -> None:
    text = client.get("/privacy?lang=en").text
    assert f"Sessions end after {client.settings.session_days} days without use" in text


def test_the_registration_form_links_the_terms_and_the_privacy_notice(client: WebClient) -> None:
    form = client.get("/account/register").text.split('id="f-form"')[1].split("</form>")[0]
    assert 'href="/terms"' in form and 'href="/privacy"' in form


def test_an_administrator_rewrites_a_page_in_one_language_and_can_go_back(client: WebClient,
                                                                          session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)
    admin_page = client.get("/admin/legal").text
    assert 'href="/admin/legal/privacy/nl"' in admin_page
    text = ("## Responsable\nVille de Liège, place du Marché 2, 4000 Liège.\n\n"
            "<script>alert('x')</script> [piège](javascript:alert(1))")
    response = client.submit("/admin/legal/privacy/fr", {"body_md": text})
    assert response.status_code == 303

    page = client.get("/privacy?lang=fr").text
    assert "<h2>Responsable</h2>" in page and "place du Marché 2" in page
    assert "<script>alert" not in page and 'href="javascript:' not in page  # shown as text, inert
    assert "Autorité de protection des données" not in page  # the default is replaced
    # French is the original: a language without a text of the city's shows it, marked as such,
    # rather than a default that does not say what the city wrote.
    english = client.get("/privacy?lang=en").text
    assert "Data Protection Authority" not in english and "place du Marché 2" in english
    assert '<p class="original-language">Original in French</p>' in english
    assert '<div class="richtext" lang="fr">' in english
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "legal_page_save")).one()
    assert entry.actor_id == admin.id and entry.details == {"kind": "privacy", "lang": "fr", "default": False}

    assert client.submit("/admin/legal/privacy/fr", {"reset": "1"}).status_code == 303
    assert "Autorité de protection des données" in client.get("/privacy?lang=fr").text
    session.expire_all()
    row = session.exec(select(LegalPage)).one()
    assert row.body_md == "" and row.body_html == ""


def test_a_text_too_long_is_refused_and_changes_nothing(client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)
    response = client.submit("/admin/legal/terms/fr", {"body_md": "a" * 60_001})
    assert response.status_code == 422
    assert "Le texte est trop long." in response.text
    assert session.exec(select(LegalPage)).first() is None
    assert session.exec(select(AuditEntry)).first() is None
    assert client.submit("/admin/legal/terms/xx", {"body_md": "x"}).status_code == 404
    assert client.submit("/admin/legal/cookies/fr", {"body_md": "x"}).status_code == 404


def test_only_administrators_edit_and_only_with_the_forms_token(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    admin = make_user(session, role=Role.admin)
    session.commit()
    visitor = client.get("/admin/legal/privacy/fr", follow_redirects=False)
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/account/login")
    client.login_as(moderator)
    assert client.get("/admin/legal").status_code == 403
    assert client.submit("/admin/legal/privacy/fr", {"body_md": "Détourné"}).status_code == 403
    client.cookies.clear()
    client.login_as(admin)
    assert client.post("/admin/legal/privacy/fr", data={"body_md": "Sans jeton"}).status_code == 403
    assert session.exec(select(LegalPage)).first() is None


def test_translations_follow_their_original_and_say_when_they_are_out_of_date(client: WebClient,
                                                                             session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)
    original = "## Responsable\nVille de Liège, place du Marché 2."
    assert client.submit("/admin/legal/contact/fr", {"body_md": original}).status_code == 303
    editor = client.get("/admin/legal/contact/nl?lang=en").text
    assert "This is a translation of the original in French." in editor
    assert '<pre class="translation-source" lang="fr">## Responsable' in editor  # beside the form
    assert client.submit("/admin/legal/contact/nl", {"body_md": "## Verantwoordelijke\nStad Luik, Marktplein 2."}
                         ).status_code == 303
    dutch = client.get("/contact?lang=nl").text
    assert "Stad Luik, Marktplein 2." in dutch and "original-language" not in dutch
    assert "out of date" not in client.get("/admin/legal?lang=en").text

    # The original changes: the Dutch translation is flagged until someone saves it again.
    assert client.submit("/admin/legal/contact/fr", {"body_md": original + " Tél. 04 221 80 00."}).status_code == 303
    listing = client.get("/admin/legal?lang=en").text.split('id="legal-contact"')[1].split("</section>")[0]
    assert listing.count("out of date") == 1 and "Nederlands</a>:" in listing.split("out of date")[0]
    assert "Out of date: the original changed" in client.get("/admin/legal/contact/nl?lang=en").text
    assert "Stad Luik, Marktplein 2." in client.get("/contact?lang=nl").text  # still shown meanwhile
    assert client.submit("/admin/legal/contact/nl", {"body_md": "## Verantwoordelijke\nStad Luik. Tel. 04 221 80 00."}
                         ).status_code == 303
    assert "out of date" not in client.get("/admin/legal?lang=en").text
