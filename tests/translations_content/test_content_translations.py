"""Content in every language (issue 18): calls, themes and districts in the visitor's language
where translated, else the original with its `lang` and an "Original in …" marker; the staff
editor, side by side, with out-of-date translations flagged and a "translations missing" view."""

import re

from sqlmodel import Session, select

from app import contentlang
from app.account.models import Role
from app.audit import AuditEntry
from app.call.models import Call, Category, District
from app.i18n import language
from tests.factories import make_call, make_category, make_district, make_idea, make_user
from tests.support import WebClient, counting


def _admin(client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)


def _translated_call(session: Session) -> Call:
    call = make_call(session, title="Budget participatif", summary="Proposez vos idées pour Liège.",
                     description_md="Une **ville** plus verte.")
    call.description_html = "<p>Une <strong>ville</strong> plus verte.</p>"
    contentlang.set_translations(call, "call", "nl", {
        "title": "Participatieve begroting", "summary": "Stel uw ideeën voor.",
        "description_md": "Een **groenere** stad."})
    session.add(call)
    session.commit()
    return call


def _element(html: str, text: str) -> str:
    """The opening tag of the element whose text starts with `text`."""
    found = re.search(r"<(\w+)([^>]*)>\s*" + re.escape(text), html)
    assert found, text
    return found.group(0)


def test_a_dutch_reader_sees_the_dutch_translation_without_marker(client: WebClient, session: Session) -> None:
    call = _translated_call(session)
    html = client.get(f"/calls/{call.slug}?lang=nl").text
    assert '<html lang="nl"' in html
    assert "<h1>Participatieve begroting</h1>" in html
    assert "Een <strong>groenere</strong> stad." in html
    assert "Budget participatif" not in html
    assert "Origineel" not in html and 'lang="fr"' not in html.split("<main", 1)[1].split("</main>")[0]


def test_a_german_reader_sees_the_french_original_marked(client: WebClient, session: Session) -> None:
    call = _translated_call(session)
    html = client.get(f"/calls/{call.slug}?lang=de").text
    main = html.split("<main", 1)[1]
    assert '<span lang="fr">Budget participatif</span>' in main
    assert "(Original auf Französisch)" in main
    assert '<div class="richtext" lang="fr">' in main
    assert "Participatieve" not in html
    # The list of calls and the home page say the same.
    listing = client.get("/calls?lang=de").text
    assert '<span lang="fr">Budget participatif</span>' in listing and "(Original auf Französisch)" in listing


def test_a_french_reader_sees_the_original_untouched(client: WebClient, session: Session) -> None:
    call = _translated_call(session)
    html = client.get(f"/calls/{call.slug}?lang=fr").text
    assert "<h1>Budget participatif</h1>" in html
    assert "Original en" not in html


def test_themes_and_districts_follow_on_cards_filters_and_the_idea_page(client: WebClient, session: Session) -> None:
    call = make_call(session)
    theme = make_category(session, call, name="Mobilité")
    district = make_district(session, name="Outremeuse")
    contentlang.set_translations(theme, "category", "nl", {"name": "Mobiliteit"})
    idea = make_idea(session, call, make_user(session), title="Plus de vélos", category=theme, district=district)
    session.add(theme)
    session.commit()
    page = client.get(f"/calls/{call.slug}?lang=nl").text
    assert re.search(rf'<option value="{theme.id}"\s*>Mobiliteit</option>', page)
    assert re.search(f'<option value="{district.id}" lang="fr">Outremeuse</option>', page)
    assert '<span class="tag">Mobiliteit</span>' in page
    assert '<span class="tag tag-district"><span lang="fr">Outremeuse</span></span>' in page
    detail = client.get(f"/ideas/{idea.id}?lang=nl").text
    assert '<span class="tag">Mobiliteit</span>' in detail
    assert '<span lang="fr">Outremeuse</span>' in detail


def test_the_editor_saves_flags_out_of_date_and_records_it(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Budget participatif")
    theme = make_category(session, call, name="Mobilité")
    session.commit()
    _admin(client, session)
    page = client.get(f"/admin/calls/{call.id}/translations?to=nl").text
    assert 'lang="fr">Budget participatif</div>' in page  # the original, beside the field
    answer = client.submit(f"/admin/calls/{call.id}/translations", {
        "language": "nl", f"call.{call.id}.title": "Participatieve begroting",
        f"category.{theme.id}.name": "Mobiliteit"})
    assert answer.status_code == 303
    session.expire_all()
    saved = session.get(Call, call.id)
    assert saved is not None and saved.translations["nl"]["title"]["text"] == "Participatieve begroting"
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "translation_save")).one()
    assert entry.details["language"] == "nl" and f"category.{theme.id}.name" in entry.details["fields"]
    page = client.get(f"/admin/calls/{call.id}/translations?to=nl").text
    assert "tag-warning" not in page
    # The original changes: the Dutch title is now older than it.
    saved.title = "Budget citoyen"
    session.add(saved)
    session.commit()
    page = client.get(f"/admin/calls/{call.id}/translations?to=nl").text
    label = page.split(f'for="f-call.{call.id}.title"', 1)[1].split("</label>", 1)[0]
    assert '<span class="tag tag-warning">périmée</span>' in label  # "out of date", in the admin's French
    theme_label = page.split(f'for="f-category.{theme.id}.name"', 1)[1].split("</label>", 1)[0]
    assert "out of date" not in theme_label
    missing = client.get(f"/admin/calls/{call.id}/translations/missing").text
    row = missing.split(f'data-missing="call.{call.id}.title"', 1)[1].split("</tr>", 1)[0]
    assert "Nederlands" in row  # out of date in Dutch


def test_the_missing_view_lists_what_lacks_which_language(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Budget participatif", summary="")
    district = make_district(session, name="Outremeuse")
    contentlang.set_translations(call, "call", "nl", {"title": "Participatieve begroting"})
    contentlang.set_translations(district, "district", "de", {"name": "Outremeuse (DE)"})
    session.add_all([call, district])
    session.commit()
    _admin(client, session)
    html = client.get(f"/admin/calls/{call.id}/translations/missing").text
    title_missing = html.split(f'data-missing="call.{call.id}.title"', 1)[1].split("</td>", 1)[0]
    assert "Deutsch" in title_missing and "English" in title_missing and "Nederlands" not in title_missing
    district_missing = html.split(f'data-missing="district.{district.id}.name"', 1)[1].split("</td>", 1)[0]
    assert "Nederlands" in district_missing and "Deutsch" not in district_missing
    assert f'data-missing="call.{call.id}.summary"' not in html  # an empty original needs nothing


def test_a_citizen_gets_403_and_a_visitor_is_sent_to_log_in(client: WebClient, session: Session) -> None:
    call = make_call(session)
    citizen = make_user(session)
    session.commit()
    assert client.get(f"/admin/calls/{call.id}/translations", follow_redirects=False).status_code in (302, 303)
    client.login_as(citizen)
    assert client.get(f"/admin/calls/{call.id}/translations").status_code == 403
    assert client.get(f"/admin/calls/{call.id}/translations/missing").status_code == 403
    answer = client.submit(f"/admin/calls/{call.id}/translations", {"language": "nl", f"call.{call.id}.title": "X"})
    assert answer.status_code == 403
    session.expire_all()
    assert session.get(Call, call.id).translations == {}  # type: ignore[union-attr]


def test_bad_input_is_refused_with_nothing_written(client: WebClient, session: Session) -> None:
    call = make_call(session)
    other = make_call(session)
    theme_elsewhere = make_category(session, other)
    session.commit()
    _admin(client, session)
    for data in (
        {"language": "xx", f"call.{call.id}.title": "Titel"},
        {"language": "fr", f"call.{call.id}.title": "Titre"},  # the original's own language
        {"language": "nl", f"call.{call.id}.title": "T" * 161},
        {"language": "nl", f"call.{call.id}.title": "Titel", f"call.{call.id}.slug": "x"},
        {"language": "nl", f"call.{call.id}.title": "Titel", f"category.{theme_elsewhere.id}.name": "Thema"},
    ):
        answer = client.submit(f"/admin/calls/{call.id}/translations", data)
        assert answer.status_code == 422, data
        assert 'role="alert"' in answer.text
    session.expire_all()
    assert session.get(Call, call.id).translations == {}  # type: ignore[union-attr]
    assert session.get(Category, theme_elsewhere.id).translations == {}  # type: ignore[union-attr]
    assert session.exec(select(AuditEntry)).first() is None


def test_a_script_in_a_translation_stays_inert(client: WebClient, session: Session) -> None:
    call = make_call(session)
    session.commit()
    _admin(client, session)
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    client.submit(f"/admin/calls/{call.id}/translations", {
        "language": "nl", f"call.{call.id}.title": evil,
        f"call.{call.id}.description_md": evil + "\n\n[x](javascript:alert(3))"})
    for url in (f"/calls/{call.slug}?lang=nl", f"/admin/calls/{call.id}/translations?to=nl", "/calls?lang=nl"):
        html = client.get(url).text
        assert "&lt;script&gt;alert(1)" in html, url  # shown as text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert not re.search(r"href=[\"']?javascript:", html)


def test_a_district_or_theme_written_in_the_readers_language_is_not_marked(session: Session) -> None:
    district = District(slug="kelmis", name="Kelmis", original_language="de")
    with language("de"):
        assert contentlang.shown(district, "name") == contentlang.Shown("Kelmis", "de", False)
    with language("fr"):
        assert contentlang.shown(district, "name").foreign



def test_translations_cost_no_statement_on_the_call_page(client: WebClient, session: Session) -> None:
    call = make_call(session)
    make_category(session, call)
    slug = call.slug
    session.commit()
    client.get(f"/calls/{slug}?lang=nl")
    with counting(client.db.engine) as before:
        client.get(f"/calls/{slug}?lang=nl")
    for n in range(5):
        theme = make_category(session, call, name=f"Thème {n}")
        contentlang.set_translations(theme, "category", "nl", {"name": f"Thema {n}"})
        session.add(theme)
    contentlang.set_translations(call, "call", "nl", {"title": "Titel"})
    session.add(call)
    session.commit()
    client.get(f"/calls/{slug}?lang=nl")  # what pages keep while nothing is written is read again once
    with counting(client.db.engine) as after:
        html = client.get(f"/calls/{slug}?lang=nl").text
    assert "Thema 4" in html
    assert len(after) == len(before), after


def _answered(session: Session) -> tuple[object, object, int]:
    from app.moderation import idea_decisions
    from app.settings import Settings

    call = make_call(session)
    moderator = make_user(session, role=Role.moderator)
    idea = make_idea(session, call, make_user(session), title="Un parc")
    idea_decisions.answer_idea(session, actor=moderator, idea=idea, answer_status="accepted",
                               answer_md="La Ville **accepte**.", settings=Settings(), lang="fr")
    session.commit()
    assert idea.id is not None
    return moderator, idea, idea.id


def test_a_moderator_translates_the_official_answer(client: WebClient, session: Session) -> None:
    moderator, _idea, idea_id = _answered(session)
    client.login_as(moderator)  # type: ignore[arg-type]
    page = client.get(f"/moderation/ideas/{idea_id}").text
    assert "Traductions de la réponse officielle" in page
    answer = client.submit(f"/moderation/ideas/{idea_id}/answer/translation",
                           {"language": "nl", "translation_md": "De stad **aanvaardt**. <script>x()</script>"})
    assert answer.status_code == 303
    dutch = client.get(f"/ideas/{idea_id}?lang=nl").text
    assert "De stad <strong>aanvaardt</strong>." in dutch and "<script>x()" not in dutch
    assert "Origineel in het" not in dutch.split('id="answer-title"', 1)[1].split("</section>", 1)[0]
    german = client.get(f"/ideas/{idea_id}?lang=de").text
    section = german.split('id="answer-title"', 1)[1].split("</section>", 1)[0]
    assert 'lang="fr"' in section and "Original auf Französisch" in section and "La Ville" in section
    # The answer changes: the Dutch translation is flagged out of date.
    from app.idea.models import Idea
    from app.moderation import idea_decisions
    from app.settings import Settings
    session.expire_all()
    idea = session.get(Idea, idea_id)
    idea_decisions.answer_idea(session, actor=moderator, idea=idea, answer_status="accepted",  # type: ignore[arg-type]
                               answer_md="La Ville accepte, en 2027.", settings=Settings(), lang="fr")
    session.commit()
    page = client.get(f"/moderation/ideas/{idea_id}?lang=fr").text
    section = page.split('id="answer-translations-title"', 1)[1].split("</section>", 1)[0]
    assert 'tag-warning">périmée<' in section


def test_an_answer_translation_with_bad_input_writes_nothing(client: WebClient, session: Session) -> None:
    moderator, _idea, idea_id = _answered(session)
    client.login_as(moderator)  # type: ignore[arg-type]
    for data in ({"language": "xx", "translation_md": "Tekst"}, {"language": "fr", "translation_md": "Texte"},
                 {"language": "nl", "translation_md": "T" * 10_001}):
        assert client.submit(f"/moderation/ideas/{idea_id}/answer/translation", data).status_code == 422, data
    citizen = make_user(session)
    session.commit()
    client.login_as(citizen)
    answer = client.submit(f"/moderation/ideas/{idea_id}/answer/translation", {"language": "nl", "translation_md": "x"})
    assert answer.status_code == 403
    from app.idea.models import Idea
    session.expire_all()
    assert session.get(Idea, idea_id).answer_translations == {}  # type: ignore[union-attr]


def test_an_idea_and_a_comment_keep_the_language_they_were_written_in(client: WebClient, session: Session) -> None:
    from app.comment.models import Comment
    from app.idea.models import Idea

    call = make_call(session)
    author = make_user(session)
    slug = call.slug
    session.commit()
    client.login_as(author)
    answer = client.submit(f"/calls/{slug}/ideas/new?lang=fr", {
        "title": "Een park in de wijk", "body_md": "Wij willen een groot park met bomen voor iedereen.",
        "language": "nl", "action": "submit", "form_token": ""})
    assert answer.status_code == 303, answer.text[:300]
    idea = session.exec(select(Idea).where(Idea.title == "Een park in de wijk")).one()
    assert idea.language == "nl"
    page = client.get(f"/ideas/{idea.id}?lang=fr").text
    assert '<h1 id="idea-title" lang="nl">Een park in de wijk</h1>' in page
    assert "Écrit en néerlandais" in page
    assert '<div class="idea-body richtext" lang="nl">' in page
    dutch = client.get(f"/ideas/{idea.id}?lang=nl").text
    assert '<h1 id="idea-title">Een park in de wijk</h1>' in dutch  # the page's own language
    # Its card on the call page and its search result say it too, in French pages only.
    card = client.get(f"/calls/{slug}?lang=fr").text.split(f'id="card-{idea.id}"')[1].split("</li>")[0]
    assert 'class="idea-card-title" lang="nl">' in card and 'class="idea-card-excerpt" lang="nl">' in card
    in_dutch = client.get(f"/calls/{slug}?lang=nl").text.split(f'id="card-{idea.id}"')[1].split("</li>")[0]
    assert 'lang="nl"' not in in_dutch
    client.run_worker()  # indexes it
    found = client.get("/search?q=park&lang=fr").text
    assert '<h2 class="search-result-title" lang="nl">' in found
    assert '<p class="search-result-excerpt" lang="nl">' in found
    # A comment declared in German; another not declared, detected.
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Eine sehr gute Idee für unser Viertel!", "language": "de"})
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Une très bonne idée pour tout le quartier, bravo !"})
    rows = {c.body_md[:4]: c.language for c in session.exec(select(Comment)).all()}
    assert rows == {"Eine": "de", "Une ": "fr"}
    page = client.get(f"/ideas/{idea.id}?lang=fr").text
    assert '<div class="comment-body" lang="de">' in page
    assert page.count('<div class="comment-body">') == 1  # the French one, in the page's language
    refused = client.submit(f"/ideas/{idea.id}/comments", {"body": "Encore une idée, vraiment bien.", "language": "xx"})
    assert refused.status_code == 422
    assert session.exec(select(Comment)).all().__len__() == 2


def test_detection_says_nothing_when_unsure() -> None:
    assert contentlang.detect_language("ok") is None
    assert contentlang.detect_language("Een park voor de kinderen van de wijk") == "nl"
    assert contentlang.detect_language("Ein Park für die Kinder im ganzen Viertel") == "de"


def test_an_announcement_without_the_readers_language_is_marked_as_the_original(
        client: WebClient, session: Session) -> None:
    from app.announce.models import Announcement
    from app.clock import utcnow

    call = make_call(session, phase="voting", title="Budget des quartiers")
    contentlang.set_translations(call, "call", "nl", {"title": "Wijkbudget"})
    both = Announcement(call_id=call.id, event="free", status="published", published_at=utcnow(),
                        texts={"fr": "Le vote est ouvert.", "nl": "De stemming is open."})
    french = Announcement(call_id=call.id, event="free", status="published", published_at=utcnow(),
                          texts={"fr": "Merci pour vos idées."})
    session.add_all([call, both, french])
    session.commit()
    for path in ("/announcements", f"/calls/{call.slug}"):
        page = client.get(path, params={"lang": "nl"}).text
        assert re.search(r'<div class="announcement-text">\s*<p>De stemming is open.</p>', page), path
        assert '<div class="announcement-text" lang="fr">' in page and "Merci pour vos idées." in page, path
        assert page.count("(Origineel in het Frans)") == 0 and "Origineel in het Frans" in page, path
    listing = client.get("/announcements", params={"lang": "nl"}).text
    assert ">Wijkbudget</a>" in listing  # the call's name in the reader's language
    assert 'lang="fr"' not in client.get(f"/announcements/{both.id}", params={"lang": "nl"}).text.split("<main")[1]
    assert '<div class="announcement-text">' in client.get("/announcements", params={"lang": "fr"}).text


def test_an_administrator_says_which_language_a_call_is_written_in(client: WebClient, session: Session) -> None:
    from app.account.models import Role
    from app.call.models import Call, Category
    from tests.call.test_admin import FORM

    admin = make_user(session, role=Role.admin)
    session.commit()
    client.login_as(admin)
    assert 'name="original_language"' in client.get("/admin/calls/new").text
    created = client.submit("/admin/calls/new", {**FORM, "title": "Burgerbegroting", "slug": "burgerbegroting",
                                                 "description_md": "Uw ideeën voor de stad.",
                                                 "original_language": "nl"})
    assert created.status_code == 303, created.text[:500]
    call = session.exec(select(Call).where(Call.slug == "burgerbegroting")).one()
    assert call.original_language == "nl"
    client.submit(f"/admin/calls/{call.id}/categories", {"category_name": "Groen"})
    assert session.exec(select(Category).where(Category.call_id == call.id)).one().original_language == "nl"
    french_page = client.get("/calls/burgerbegroting?lang=fr").text
    assert 'lang="nl">Burgerbegroting</' in french_page and "Original en néerlandais" in french_page
    assert "Original en" not in client.get("/calls/burgerbegroting?lang=nl").text.split("<main")[1]
    client.get("/?lang=fr")  # back to French for the messages below

    bad = client.submit(f"/admin/calls/{call.id}", {**FORM, "title": "Burgerbegroting", "slug": "burgerbegroting",
                                                    "original_language": "xx"})
    assert bad.status_code == 422 and "Choisissez une langue dans la liste" in bad.text
    contentlang.set_translations(call, "call", "fr", {"title": "Budget citoyen"})
    session.add(call)
    session.commit()
    clash = client.submit(f"/admin/calls/{call.id}", {**FORM, "title": "Burgerbegroting", "slug": "burgerbegroting",
                                                      "original_language": "fr"})
    assert clash.status_code == 422 and "Cet appel a une traduction dans cette langue" in clash.text
    session.expire_all()
    assert session.get(Call, call.id).original_language == "nl"  # type: ignore[union-attr]


def test_languages_are_recognised_not_taken_from_the_interface(client: WebClient, session: Session) -> None:
    """Found by review: a French answer written by a moderator reading the site in English was
    labelled English; a French idea posted from an English page likewise; an idea entered from
    paper had no language at all."""
    from app.idea.models import Idea
    from app.moderation import idea_decisions
    from app.settings import Settings

    call = make_call(session)
    moderator = make_user(session, role=Role.moderator)
    idea = make_idea(session, call, make_user(session), title="Un parc")
    idea_decisions.answer_idea(session, actor=moderator, idea=idea, answer_status="accepted",
                               answer_md="La Ville accepte votre idée et aménagera le parc dès le printemps prochain.",
                               settings=Settings(), lang="en")
    session.commit()
    assert idea.answer_language == "fr"

    author = make_user(session)
    session.commit()
    client.login_as(author)
    form = client.get(f"/calls/{call.slug}/ideas/new?lang=en").text
    assert '<option value="" selected>' in form  # "Recognise it from my text", not the page's language
    client.submit(f"/calls/{call.slug}/ideas/new", {
        "title": "Des bancs au bord de la Meuse", "body_md": "Installer des bancs à l'ombre le long du quai.",
        "action": "submit", "form_token": ""})
    posted = session.exec(select(Idea).where(Idea.title == "Des bancs au bord de la Meuse")).one()
    assert posted.language == "fr"

    client.cookies.clear()
    client.login_as(moderator)
    client.get("/?lang=fr")
    entered = client.submit(f"/moderation/calls/{call.id}/intake", {
        "channel": "paper", "title": "Een speeltuin voor de kinderen", "body_md":
        "Wij vragen een speeltuin met schommels en een zandbak voor de kinderen van de wijk.",
        "display_name": "Mevrouw Peeters"})
    assert entered.status_code == 303, re.findall(r"field-error.{0,300}", entered.text, re.S)[:3] or entered.status_code
    assert session.exec(select(Idea).where(Idea.title == "Een speeltuin voor de kinderen")).one().language == "nl"
