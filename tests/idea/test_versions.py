"""What people supported never changes silently (issue 10, defect 5): an idea with five supports
was rewritten by its author from tree planting into a car park, and the supports stayed on the
new text with no trace of the old one. Every edit of an idea's wording after its draft is now
kept as a version: in the idea's public history (with the previous wording), told to its
supporters and followers, and shown to moderators as a difference."""

import re
from datetime import timedelta
from email.header import decode_header, make_header

from sqlmodel import Session, col, select

from app import clock
from app.account.models import Role, User
from app.follow import service as follow_service
from app.idea.models import Idea, IdeaStatus, IdeaVersion
from app.idea.versions import Segment, diff_text, diff_words
from app.notify import service as notify_service
from app.notify.models import EmailDelivery, Notification, NotificationKind
from app.vote import service as vote_service
from tests.factories import make_call, make_category, make_district, make_idea, make_user
from tests.support import SmtpSink, WebClient, body_of, exported_data

TREES = ("Nous proposons de planter vingt tilleuls le long de la rue, pour l'ombre en été "
         "et pour les oiseaux du quartier.")
CAR_PARK = ("Nous proposons de construire un parking de deux cents places le long de la rue, "
            "pour les voitures des visiteurs.")


def _versions(session: Session, idea_id: int | None) -> list[IdeaVersion]:
    session.expire_all()
    return list(session.exec(select(IdeaVersion).where(IdeaVersion.idea_id == idea_id)
                             .order_by(col(IdeaVersion.id))).all())


def _edited_notices(session: Session) -> list[Notification]:
    session.expire_all()
    return list(session.exec(select(Notification).where(Notification.kind == NotificationKind.edited)
                             .order_by(col(Notification.user_id))).all())


def _history_text(html: str) -> str:
    section = html[html.index('id="history-title"'):]
    section = section[:section.index("</section>")]
    return " ".join(re.sub(r"<[^>]+>", " ", section).split())


def _edit(client: WebClient, idea: Idea, **fields: object) -> None:
    response = client.submit(f"/ideas/{idea.id}/edit", {"action": "save", **fields})
    assert response.status_code == 303, response.text


def test_a_supported_idea_rewritten_keeps_its_version_tells_its_people_and_shows_the_difference(
        mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    call = make_call(session, voting_during_submissions=True, votes_per_citizen=3)
    nature, mobility = make_category(session, call, name="Nature"), make_category(session, call, name="Mobilité")
    louvrex, centre = make_district(session, name="Saint-Laurent"), make_district(session, name="Centre")
    author = make_user(session, display_name="Alice Marchal", email="alice@example.org")
    idea = make_idea(session, call, author, title="Planter des arbres rue Louvrex", body=TREES,
                     category=nature, district=louvrex)
    follow_service.follow(session, idea_id=idea.id or 0, user_id=author.id or 0)
    supporters = [make_user(session, email=f"soutien{n}@example.org") for n in range(5)]
    for person in supporters:
        vote_service.cast_vote(session, idea=idea, call=call, user=person)
    follow_service.follow(session, idea_id=idea.id or 0, user_id=supporters[0].id or 0)  # supports and follows
    follower = make_user(session, email="suiveur@example.org", language="nl")
    follow_service.follow(session, idea_id=idea.id or 0, user_id=follower.id or 0)
    quiet = supporters[4]
    notify_service.set_delivery(session, user_id=quiet.id or 0, kind="edited", delivery=EmailDelivery.none)
    notify_service.set_delivery(session, user_id=supporters[3].id or 0, kind="edited", delivery=EmailDelivery.daily)
    bystander = make_user(session, email="passant@example.org")
    moderator = make_user(session, role=Role.moderator, display_name="Équipe modération")
    session.commit()
    assert idea.vote_count == 5

    mail_client.login_as(author)
    _edit(mail_client, idea, title="Un parking rue Louvrex", body_md=CAR_PARK, category_id=str(mobility.id),
          district_id=str(centre.id))

    # The version keeps what the idea said before and after, and who changed it.
    [version] = _versions(session, idea.id)
    assert (version.title_before, version.title_after) == ("Planter des arbres rue Louvrex", "Un parking rue Louvrex")
    assert (version.body_md_before, version.body_md_after) == (TREES, CAR_PARK)
    assert "tilleuls" in version.body_html_before and "<p>" in version.body_html_before
    assert "parking" in version.body_html_after
    assert (version.category_before_id, version.category_after_id) == (nature.id, mobility.id)
    assert (version.district_before_id, version.district_after_id) == (louvrex.id, centre.id)
    assert (version.editor_id, version.by_moderation, version.status) == (author.id, False, IdeaStatus.published)

    # Supporters and followers are told, each once; not the author, not a bystander.
    notices = _edited_notices(session)
    told = [n.user_id for n in notices]
    assert told == sorted([p.id for p in supporters] + [follower.id])  # type: ignore[type-var]
    assert author.id not in told and bystander.id not in told
    assert all(n.link == f"/ideas/{idea.id}#version-{version.id}" and n.actor_id == author.id for n in notices)

    # By e-mail, in each one's language, naming the former title; not to whoever switched it off.
    mail_client.run_worker()
    message = smtp.last_to("soutien0@example.org")
    assert str(make_header(decode_header(message["Subject"]))) == \
        "L’idée «\u202fUn parking rue Louvrex\u202f» a été modifiée"
    text = body_of(message)
    assert "Son titre était\u202f: «\u202fPlanter des arbres rue Louvrex\u202f»." in text
    assert f"http://testserver/ideas/{idea.id}#version-{version.id}" in text
    assert "parce que vous soutenez ou suivez cette idée" in text
    assert smtp.to("suiveur@example.org")  # in Dutch
    assert "De titel was: ‘Planter des arbres rue Louvrex’." in body_of(smtp.last_to("suiveur@example.org"))
    assert smtp.to("soutien4@example.org") == [] and smtp.to("alice@example.org") == []
    assert smtp.to("soutien3@example.org") == []  # in the next daily digest
    with clock.travel(timedelta(days=2)):
        mail_client.run_worker()
    assert "«\u202fUn parking rue Louvrex\u202f»\u202f: modifiée par son auteur ou autrice" in body_of(
        smtp.last_to("soutien3@example.org"))
    # In the site, for the one who switched e-mails off too.
    mail_client.login_as(quiet)
    assert "«\u202fUn parking rue Louvrex\u202f»\u202f: modifiée par son auteur ou autrice" in \
        mail_client.get("/notifications").text

    # The public history says who changed what, and keeps the previous wording.
    mail_client.cookies.clear()
    page = mail_client.get(f"/ideas/{idea.id}").text
    history = _history_text(page)
    assert "Modifiée par son auteur ou autrice — Alice Marchal" in history
    assert "Modifié : titre, description, thème, quartier" in history
    assert f'<li id="version-{version.id}">' in page
    assert "Voir la formulation précédente" in history
    assert "Titre : Planter des arbres rue Louvrex" in history
    assert "Thème : Nature" in history and "Quartier : Saint-Laurent" in history
    assert "vingt tilleuls" in history

    # Moderators see the difference: removed and added words marked by <del> and <ins>.
    mail_client.login_as(moderator)
    staff = mail_client.get(f"/moderation/ideas/{idea.id}").text
    assert "Modifications de la formulation" in staff
    assert "<del>Planter des arbres</del>" in staff and "<ins>Un parking</ins>" in staff
    assert "<del>Nature</del>" in staff and "<ins>Mobilité</ins>" in staff
    assert "<del>Saint-Laurent</del>" in staff and "<ins>Centre</ins>" in staff
    assert re.search(r"<del>[^<]*planter vingt tilleuls[^<]*</del>", staff)
    assert re.search(r"<ins>[^<]*construire un parking[^<]*</ins>", staff)
    assert "Le texte supprimé est barré, le texte ajouté est souligné." in staff


def test_a_draft_edit_keeps_no_version_and_tells_nobody(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    draft = make_idea(session, call, author, title="Un brouillon de potager", body=TREES, status="draft")
    follow_service.follow(session, idea_id=draft.id or 0, user_id=author.id or 0)
    session.commit()

    client.login_as(author)
    _edit(client, draft, title="Un potager partagé", body_md=CAR_PARK)
    session.expire_all()
    assert session.get(Idea, draft.id).title == "Un potager partagé"  # type: ignore[union-attr]
    assert _versions(session, draft.id) == []
    assert _edited_notices(session) == []
    assert "Modifiée par" not in _history_text(client.get(f"/ideas/{draft.id}").text)


def test_an_unchanged_resubmit_keeps_no_version(client: WebClient, session: Session) -> None:
    call = make_call(session, voting_during_submissions=True)
    author = make_user(session)
    idea = make_idea(session, call, author, title="Des bancs place du Marché", body=TREES)
    supporter = make_user(session)
    vote_service.cast_vote(session, idea=idea, call=call, user=supporter)
    session.commit()

    client.login_as(author)
    # The same wording, as a browser sends it back (CRLF, spaces the service trims).
    _edit(client, idea, title="  Des bancs   place du Marché ", body_md=TREES + "\r\n")
    assert _versions(session, idea.id) == []
    assert _edited_notices(session) == []
    # A real change after it is kept, once.
    _edit(client, idea, title="Des bancs place du Marché", body_md=TREES + " Et une fontaine.")
    [version] = _versions(session, idea.id)
    assert version.title_before == version.title_after == "Des bancs place du Marché"
    assert [n.user_id for n in _edited_notices(session)] == [supporter.id]
    page = client.get(f"/ideas/{idea.id}").text
    assert "Modifié : description" in _history_text(page)


def test_an_edit_held_for_moderation_is_told_to_supporters_once_the_idea_is_public_again(
        client: WebClient, session: Session) -> None:
    call = make_call(session, voting_during_submissions=True)
    author = make_user(session)  # a new account: adding a link sends the idea back to moderators
    idea = make_idea(session, call, author, title="Des bancs place du Marché", body=TREES)
    supporter = make_user(session)
    vote_service.cast_vote(session, idea=idea, call=call, user=supporter)
    follow_service.follow(session, idea_id=idea.id or 0, user_id=supporter.id or 0)
    moderator = make_user(session, role=Role.moderator)
    follow_service.follow(session, idea_id=idea.id or 0, user_id=moderator.id or 0)
    session.commit()

    client.login_as(author)
    _edit(client, idea, title="Des bancs place du Marché", body_md=TREES + " Voir https://example.org/bancs")
    session.expire_all()
    assert session.get(Idea, idea.id).status == IdeaStatus.submitted  # type: ignore[union-attr]
    [version] = _versions(session, idea.id)
    assert version.status == IdeaStatus.published  # it changed what the public had read
    assert _edited_notices(session) == []  # nobody but moderators can read it while it waits

    client.login_as(moderator)
    assert client.submit(f"/moderation/ideas/{idea.id}/approve").status_code == 303
    # Public again: what the supporter supported changed, and they are told now, once.
    told = _edited_notices(session)
    assert sorted(n.user_id for n in told) == sorted([supporter.id, moderator.id])
    assert all(n.link == f"/ideas/{idea.id}#version-{version.id}" for n in told)
    client.cookies.clear()
    history = _history_text(client.get(f"/ideas/{idea.id}").text)
    assert history.index("Modifiée par son auteur ou autrice") < history.index(
        "Retenue pour modération après une modification")

    client.login_as(moderator)
    assert client.submit(f"/moderation/ideas/{idea.id}/request-changes",
                         {"message": "Retirez le lien, merci."}).status_code == 303
    assert len(_edited_notices(session)) == 2  # a later decision does not tell it again


def test_the_difference_escapes_html_in_user_text(client: WebClient, session: Session) -> None:
    call = make_call(session)
    author = make_user(session)
    nasty_title = 'Des <b>bancs</b> "ici" & là'
    nasty_body = "Texte <script>alert('avant')</script> avec <img src=x onerror=alert(1)> fin."
    idea = make_idea(session, call, author, title=nasty_title, body=nasty_body)
    moderator = make_user(session, role=Role.moderator)
    session.commit()

    client.login_as(author)
    _edit(client, idea, title='Des <i>bancs</i> "là" & ici',
          body_md="Texte <script>alert('après')</script> avec <img src=y onerror=alert(2)> fin.")
    [version] = _versions(session, idea.id)

    client.login_as(moderator)
    staff = client.get(f"/moderation/ideas/{idea.id}").text
    assert "<script>alert(" not in staff and "<img src=" not in staff and "<b>bancs" not in staff
    assert "<i>bancs" not in staff
    assert "&lt;script&gt;alert(&#39;" in staff
    assert "<del>avant</del>" in staff and "<ins>après</ins>" in staff
    assert "<del>b</del>" in staff and "<ins>i</ins>" in staff  # inside the escaped tags
    # The public's previous wording is the sanitised HTML kept at write time.
    client.cookies.clear()
    page = client.get(f"/ideas/{idea.id}").text
    assert f'id="version-{version.id}"' in page
    assert "<script>alert(" not in page and "<img src=" not in page

    # The segments themselves keep the texts whole: "same" + "del" is before, "same" + "ins" after.
    segments = diff_text(nasty_body, version.body_md_after)
    assert "".join(s.text for s in segments if s.kind != "ins") == nasty_body
    assert "".join(s.text for s in segments if s.kind != "del") == version.body_md_after


def test_words_and_lines_are_compared_so_a_rewrite_reads_old_then_new() -> None:
    assert diff_words("Planter des arbres", "Un parking") == [Segment("del", "Planter des arbres"),
                                                             Segment("ins", "Un parking")]
    assert diff_words("Des bancs rue Louvrex", "Des bancs rue Saint-Gilles") == [
        Segment("same", "Des bancs rue "), Segment("del", "Louvrex"), Segment("ins", "Saint-Gilles")]
    before, after = "Premier point.\nDeux arbres.\nFin.\n", "Premier point.\nTrois arbres.\nFin.\nAjout.\n"
    assert diff_text(before, after) == [Segment("same", "Premier point.\n"), Segment("del", "Deux"),
                                        Segment("ins", "Trois"), Segment("same", " arbres.\nFin.\n"),
                                        Segment("ins", "Ajout.\n")]


def test_an_edit_before_publication_is_for_moderators_only(client: WebClient, session: Session) -> None:
    call = make_call(session, premoderation=True)
    author = make_user(session, display_name="Bruno Lecomte")
    moderator = make_user(session, role=Role.moderator)
    idea = make_idea(session, call, author, title="Une piste cyclable quai de Rome", body=TREES,
                     status=IdeaStatus.changes_requested)
    follow_service.follow(session, idea_id=idea.id or 0, user_id=moderator.id or 0)
    session.commit()

    client.login_as(author)
    _edit(client, idea, title="Une piste cyclable quai Mativa", body_md=TREES, action="submit")
    [version] = _versions(session, idea.id)
    assert version.status == IdeaStatus.changes_requested
    assert _edited_notices(session) == []  # nobody supported a wording the public never saw

    client.login_as(moderator)
    staff = client.get(f"/moderation/ideas/{idea.id}").text
    assert "<del>de Rome</del>" in staff and "<ins>Mativa</ins>" in staff
    assert "Faite avant la publication de l’idée\u202f: absente de son historique public." in staff
    assert client.submit(f"/moderation/ideas/{idea.id}/approve").status_code == 303
    client.cookies.clear()
    history = _history_text(client.get(f"/ideas/{idea.id}").text)
    assert "Publiée" in history and "Modifiée par" not in history and "quai de Rome" not in history


def test_the_versions_are_in_the_authors_export_and_stay_without_a_name_after_deletion(
        client: WebClient, session: Session) -> None:
    call = make_call(session)
    theme = make_category(session, call, name="Nature")
    author = make_user(session, display_name="Chloé Dubois", password="un mot de passe de Chloé")
    idea = make_idea(session, call, author, title="Planter des arbres rue Louvrex", body=TREES, category=theme)
    session.commit()

    client.login_as(author)
    _edit(client, idea, title="Un parking rue Louvrex", body_md=CAR_PARK, category_id=str(theme.id))
    data = exported_data(client.submit("/account/export").content)
    [exported] = [i for i in data["ideas"] if i["id"] == idea.id]
    [version] = exported["versions"]
    assert version["edited_by"] == "you" and version["status"] == "published"
    assert version["before"] == {"title": "Planter des arbres rue Louvrex", "body_markdown": TREES,
                                 "theme": "Nature", "district": None}
    assert version["after"]["title"] == "Un parking rue Louvrex" and version["after"]["body_markdown"] == CAR_PARK

    assert client.submit("/account/delete", {"password": "un mot de passe de Chloé"}).status_code == 303
    [kept] = _versions(session, idea.id)
    assert kept.editor_id is None and kept.body_md_before == TREES  # what people supported stays
    assert session.get(User, author.id).display_name != "Chloé Dubois"  # type: ignore[union-attr]
    history = _history_text(client.get(f"/ideas/{idea.id}").text)
    assert "Modifiée par son auteur ou autrice — un ancien membre" in history
    assert "Chloé Dubois" not in history
