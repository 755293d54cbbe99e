"""Entering an idea on a resident's behalf: what the public sees (the channel and the name they
chose, never their contact), the private scan, the normal flow with e-mails to the resident,
the figures per channel, the audit entry, the export and erasure of the resident's data, and
who may do it."""

import io
import re
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlmodel import Session, select

from app.account.models import Role, User
from app.audit import AuditEntry
from app.call.models import Call
from app.council import figures
from app.idea.models import Idea
from app.intake import service
from app.intake.models import IdeaIntake
from app.media.models import MediaFile
from app.moderation import admin_service
from app.outbox.models import OutboxMessage
from app.settings import Settings
from tests.factories import make_call, make_category, make_district, make_idea, make_user
from tests.media.samples import gps_jpeg
from tests.support import WebClient

BODY = "Installer des bancs à l'ombre le long du quai, pour les personnes âgées du quartier."


def _form(**overrides: str) -> dict[str, str]:
    values = {"channel": "paper", "title": "Des bancs à l'ombre", "body_md": BODY,
              "display_name": "Madame Lejeune", "contact_email": "", "postal_address": "Rue Neuve 1, 4000 Liège"}
    values.update(overrides)
    return values


def _scan() -> bytes:
    return gps_jpeg()


def _enter(client: WebClient, call_id: int, scan: bytes | None = None, **overrides: str):  # type: ignore[no-untyped-def]
    files = {"scan": ("formulaire.jpg", scan, "image/jpeg")} if scan is not None else None
    return client.post(f"/moderation/calls/{call_id}/intake", data={**_form(**overrides), "csrf_token": client.csrf()},
                       files=files, follow_redirects=False)


def _only_intake(session: Session) -> IdeaIntake:
    session.expire_all()
    return session.exec(select(IdeaIntake)).one()


def test_entered_idea_shows_its_channel_and_name_and_its_scan_is_for_staff_only(
        client: WebClient, session: Session, settings: Settings) -> None:
    moderator = make_user(session, role=Role.moderator, display_name="Modératrice Ana")
    citizen = make_user(session)
    call = make_call(session)
    client.login_as(moderator)
    response = _enter(client, call.id, scan=_scan(), contact_email="lejeune@example.org")  # type: ignore[arg-type]
    assert response.status_code == 303, response.text
    intake = _only_intake(session)
    idea = session.get(Idea, intake.idea_id)
    assert idea is not None and idea.status == "published" and idea.author_id is None
    assert intake.entered_by_id == moderator.id and intake.channel == "paper"

    page = client.get(f"/ideas/{idea.id}")
    assert "Reçue sur papier" in page.text and "Madame Lejeune" in page.text
    assert "lejeune@example.org" not in page.text and "Rue Neuve" not in page.text

    # The scan: re-encoded, stored apart from the public media, served to staff only.
    media = session.get(MediaFile, intake.scan_media_id)
    assert media is not None
    assert (settings.private_media_dir / media.key).is_dir()
    assert not (settings.media_dir / media.key).exists()
    scan_url = f"/moderation/intakes/{intake.id}/scan/display"
    shown = client.get(scan_url)
    assert shown.status_code == 200 and shown.headers["content-type"] in ("image/jpeg", "image/webp")
    assert shown.headers["cache-control"] == "private, no-store"
    assert Image.open(io.BytesIO(shown.content)).getexif().get(0x8825) is None  # no GPS left

    assert f"/moderation/intakes/{intake.id}" in client.get(f"/moderation/ideas/{idea.id}").text
    client.cookies.clear()
    assert client.get(scan_url, follow_redirects=False).status_code in (303, 401, 403, 404)
    client.login_as(citizen)
    assert client.get(scan_url).status_code in (403, 404)
    assert scan_url not in client.get(f"/ideas/{idea.id}").text

    # The staff member's own ideas and limits are untouched; the entry is audited.
    assert session.exec(select(Idea).where(Idea.author_id == moderator.id)).first() is None
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "intake_enter")).one()
    assert entry.actor_id == moderator.id and entry.target_id == idea.id


def test_anonymous_entry_in_a_premoderated_call_waits_then_tells_the_resident_by_email(
        client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    other = make_user(session, role=Role.moderator)
    call = make_call(session, premoderation=True)
    client.login_as(moderator)
    response = _enter(client, call.id, channel="phone", display_name="", anonymous="yes",  # type: ignore[arg-type]
                      contact_email="Resident@Example.org")
    assert response.status_code == 303
    intake = _only_intake(session)
    assert intake.display_name == "" and intake.contact_email == "resident@example.org"
    idea = session.get(Idea, intake.idea_id)
    assert idea is not None and idea.status == "submitted"
    assert client.get(f"/ideas/{idea.id}").status_code == 200  # staff see it in the queue

    client.login_as(other)
    assert client.submit(f"/moderation/ideas/{idea.id}/approve").status_code == 303
    client.cookies.clear()
    page = client.get(f"/ideas/{idea.id}")
    assert "Reçue par téléphone" in page.text and "Proposée anonymement" in page.text
    mails = [m.payload for m in session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email")).all()]
    assert [m["to"] for m in mails] == ["resident@example.org"]
    assert "Votre idée est publiée" in mails[0]["body"]


def test_no_email_without_a_contact_and_counts_per_channel(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session)
    make_idea(session, call)  # one proposed online
    client.login_as(moderator)
    assert _enter(client, call.id).status_code == 303  # type: ignore[arg-type]
    assert _enter(client, call.id, channel="email", title="Un composteur de quartier").status_code == 303  # type: ignore[arg-type]
    assert session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email")).first() is None
    assert service.channel_counts(session, call.id) == {  # type: ignore[arg-type]
        "online": 1, "paper": 1, "email": 1, "phone": 0, "counter": 0, "event": 0}
    review = client.get(f"/moderation/calls/{call.id}/review")
    assert "Reçues hors de la plateforme" in review.text or "hors de la plateforme" in review.text


def test_bad_input_is_refused_with_messages_and_nothing_written(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session)
    make_category(session, call)
    client.login_as(moderator)
    response = _enter(client, call.id, scan=b"not an image at all", title="ab", channel="pigeon",  # type: ignore[arg-type]
                      display_name="", contact_email="pas-une-adresse")
    assert response.status_code == 422
    for message in ("Choisissez comment l’idée a été reçue", "entre 5 et 120", "Choisissez un thème",
                    "adresse e-mail valide"):
        assert message in response.text, message
    assert session.exec(select(Idea)).first() is None and session.exec(select(IdeaIntake)).first() is None
    # A refused scan, the rest being right: nothing written either, no file left.
    theme = make_category(session, call)
    response = _enter(client, call.id, scan=b"GIF89a garbage", category_id=str(theme.id))  # type: ignore[arg-type]
    assert response.status_code == 422
    assert session.exec(select(Idea)).first() is None and session.exec(select(MediaFile)).first() is None


def test_a_closed_call_refuses_entries(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session, phase="results")
    client.login_as(moderator)
    response = _enter(client, call.id)  # type: ignore[arg-type]
    assert response.status_code == 422 and "ne reçoit plus d’idées" in response.text
    assert session.exec(select(Idea)).first() is None


def test_erasure_and_export_of_a_residents_data(client: WebClient, session: Session, settings: Settings) -> None:
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session)
    district = make_district(session)
    client.login_as(moderator)
    assert _enter(client, call.id, scan=_scan(), contact_email="lejeune@example.org",  # type: ignore[arg-type]
                  district_id=str(district.id)).status_code == 303
    intake = _only_intake(session)
    exported = client.get(f"/moderation/intakes/{intake.id}/export")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    data = exported.json()
    assert data["name_shown"] == "Madame Lejeune" and data["contact_email"] == "lejeune@example.org"
    assert data["postal_address"].startswith("Rue Neuve") and data["scan_kept"] is True

    media = session.get(MediaFile, intake.scan_media_id)
    assert media is not None
    folder = settings.private_media_dir / media.key
    assert client.submit(f"/moderation/intakes/{intake.id}/erase").status_code == 303  # not confirmed
    assert _only_intake(session).erased_at is None
    assert client.submit(f"/moderation/intakes/{intake.id}/erase", {"confirm": "yes"}).status_code == 303
    erased = _only_intake(session)
    assert (erased.display_name, erased.contact_email, erased.postal_address) == ("", None, "")
    assert erased.scan_media_id is None
    assert erased.erased_at is not None and not folder.exists()
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "intake_erase")).one().actor_id == moderator.id
    client.cookies.clear()
    page = client.get(f"/ideas/{erased.idea_id}")
    assert "Madame Lejeune" not in page.text and "Proposée anonymement" in page.text


def test_resident_with_an_account_gets_their_intakes_in_their_export(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    resident = make_user(session, email="lejeune@example.org")
    call = make_call(session)
    client.login_as(moderator)
    assert _enter(client, call.id, contact_email="lejeune@example.org").status_code == 303  # type: ignore[arg-type]
    from app.account.privacy import export_data

    data = export_data(session, client.settings, resident)
    assert [item["name_shown"] for item in data["ideas_entered_for_you"]] == ["Madame Lejeune"]


@pytest.mark.parametrize("path", ["/moderation/calls/{call}/intake", "/moderation/intakes/{intake}",
                                  "/moderation/intakes/{intake}/export", "/moderation/intakes/{intake}/scan/display",
                                  "/moderation/calls/{call}/import"])
def test_a_citizen_gets_403_on_every_intake_page(client: WebClient, session: Session, path: str) -> None:
    moderator = make_user(session, role=Role.moderator)
    citizen = make_user(session)
    call = make_call(session)
    client.login_as(moderator)
    assert _enter(client, call.id, scan=_scan()).status_code == 303  # type: ignore[arg-type]
    intake = _only_intake(session)
    client.login_as(citizen)
    url = path.format(call=call.id, intake=intake.id)
    assert client.get(url).status_code == 403
    for post in (f"/moderation/calls/{call.id}/intake", f"/moderation/intakes/{intake.id}/erase",
                 f"/moderation/calls/{call.id}/import", f"/moderation/calls/{call.id}/import/{'0' * 64}"):
        assert client.submit(post, {**_form(), "confirm": "yes"}).status_code == 403
    assert len(session.exec(select(Idea)).all()) == 1 and _only_intake(session).erased_at is None


def test_csrf_is_required(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session)
    client.login_as(moderator)
    response = client.post(f"/moderation/calls/{call.id}/intake", data=_form(), follow_redirects=False)
    assert response.status_code == 403
    assert session.exec(select(Idea)).first() is None


def test_the_paper_form_is_public_and_lists_themes_and_districts(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Des quartiers plus verts")
    make_category(session, call, name="Mobilité douce")
    make_district(session, name="Outremeuse")
    page = client.get(f"/calls/{call.slug}/paper-form")
    assert page.status_code == 200
    for text in ("Des quartiers plus verts", "Mobilité douce", "Outremeuse", "Vos données personnelles"):
        assert text in page.text
    assert re.search(r'href="/calls/[^"]+/paper-form"', client.get(f"/calls/{call.slug}").text)


def test_an_email_waiting_for_an_erased_resident_is_never_sent(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    other = make_user(session, role=Role.moderator)
    call = make_call(session, premoderation=True)
    client.login_as(moderator)
    assert _enter(client, call.id, contact_email="lejeune@example.org").status_code == 303  # type: ignore[arg-type]
    intake = _only_intake(session)
    client.login_as(other)
    assert client.submit(f"/moderation/ideas/{intake.idea_id}/approve").status_code == 303
    assert client.submit(f"/moderation/intakes/{intake.id}/erase", {"confirm": "yes"}).status_code == 303
    client.run_worker()
    session.expire_all()
    [message] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email")).all()
    assert message.status == "cancelled" and "lejeune@example.org" not in str(message.payload)


def test_a_resident_s_data_is_only_for_the_moderators_of_its_call(client: WebClient, session: Session) -> None:
    """The resident's contact, scan, export and erasure follow the call: a moderator assigned to
    other calls gets 403 on all of them, as for entering ideas there (and nothing is erased)."""
    from app.moderation.models import ModeratorAssignment

    assigned = make_user(session, role=Role.moderator)
    other = make_user(session, role=Role.moderator)
    call = make_call(session)
    session.add(ModeratorAssignment(call_id=call.id, user_id=assigned.id))
    session.commit()
    client.login_as(assigned)
    assert _enter(client, call.id, scan=_scan(), contact_email="lejeune@example.org").status_code == 303  # type: ignore[arg-type]
    intake = _only_intake(session)
    assert client.get(f"/moderation/intakes/{intake.id}").status_code == 200
    client.cookies.clear()
    client.login_as(other)
    for path in (f"/moderation/intakes/{intake.id}", f"/moderation/intakes/{intake.id}/export",
                 f"/moderation/intakes/{intake.id}/scan/display"):
        assert client.get(path).status_code == 403, path
    assert client.submit(f"/moderation/intakes/{intake.id}/erase", {"confirm": "yes"}).status_code == 403
    kept = _only_intake(session)
    assert kept.erased_at is None and kept.contact_email == "lejeune@example.org"


def test_ideas_received_are_counted_alike_on_the_review_page_and_in_the_council_report(
        client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session)
    make_idea(session, call)  # published
    make_idea(session, call, status="withdrawn", submitted_at=datetime(2026, 11, 2, tzinfo=UTC))  # sent, then withdrawn
    make_idea(session, call, status="rejected")
    make_idea(session, call, status="withdrawn")  # a draft given up before it was ever sent: not received
    make_idea(session, call, status="draft")
    client.login_as(moderator)
    assert _enter(client, call.id).status_code == 303  # type: ignore[arg-type]
    counts = service.channel_counts(session, call.id)  # type: ignore[arg-type]
    assert counts["online"] == 3 and counts["paper"] == 1
    report = figures.participation(session, call)
    by_channel = {part.key: part.ideas for part in report.by["channel"]}
    assert by_channel["online"] == counts["online"] and by_channel["paper"] == counts["paper"]
    assert report.total.ideas == sum(counts.values()) == 4


def test_the_call_page_offers_intake_only_to_the_calls_own_moderators(client: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    assigned = make_user(session, role=Role.moderator)
    other = make_user(session, role=Role.moderator)
    call = make_call(session)
    session.commit()
    with client.db.transaction() as writing:  # the service works in a transaction (a savepoint)
        admin_service.assign_moderator(writing, actor=writing.get(User, admin.id), call=writing.get(Call, call.id),
                                       user=writing.get(User, assigned.id))
    link = f"/moderation/calls/{call.id}/intake"
    client.login_as(assigned)
    assert link in client.get(f"/calls/{call.slug}").text
    client.login_as(other)
    page = client.get(f"/calls/{call.slug}").text
    assert link not in page and f"/calls/{call.slug}/paper-form" in page  # the form to print stays public
    assert client.get(link).status_code == 403
    client.cookies.clear()
    assert link not in client.get(f"/calls/{call.slug}").text


def test_a_resident_is_never_sent_a_link_to_a_page_they_cannot_open(client: WebClient, session: Session) -> None:
    moderator = make_user(session, role=Role.moderator)
    call = make_call(session)
    client.login_as(moderator)
    assert _enter(client, call.id, contact_email="resident@example.org").status_code == 303  # type: ignore[arg-type]
    idea = session.get(Idea, _only_intake(session).idea_id)
    assert idea is not None and idea.status == "published"
    assert client.submit(f"/moderation/ideas/{idea.id}/hide", {"reason": "Données personnelles d’un voisin"}
                         ).status_code == 303
    bodies = [m.payload["body"] for m in session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email"))]
    assert len(bodies) == 1 and "Données personnelles d’un voisin" in bodies[0]
    assert f"/ideas/{idea.id}" not in bodies[0] and "Pour en savoir plus" not in bodies[0]
    client.cookies.clear()
    assert client.get(f"/ideas/{idea.id}").status_code == 404  # what the link would have opened

    client.login_as(moderator)
    assert client.submit(f"/moderation/ideas/{idea.id}/restore").status_code == 303
    session.expire_all()
    bodies = [m.payload["body"] for m in session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email")
                                                      .order_by(OutboxMessage.id))]
    assert len(bodies) == 2 and f"http://testserver/ideas/{idea.id}" in bodies[1]
