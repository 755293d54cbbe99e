"""Reports: one per person per item, auto-hide after the call's threshold, moderators told,
exact counts under parallel requests."""

from email.header import decode_header, make_header

from sqlmodel import Session, func, select

from app.account.models import Role
from app.comment.models import Comment
from app.idea.models import Idea
from app.notify.models import Notification
from app.report.models import Report
from tests.factories import make_call, make_idea, make_user
from tests.support import LiveServer, SmtpSink, WebClient, body_of
from tests.vote.parallel import browser, in_parallel, session_token

JSON = {"Accept": "application/json"}


def reports_on(session: Session, target_type: str, target_id: int) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(Report).where(
        Report.target_type == target_type, Report.target_id == target_id)).one())


def report_notifications(session: Session) -> list[Notification]:
    return list(session.exec(select(Notification).where(Notification.kind == "report")).all())


def test_idea_is_hidden_after_three_reporters_and_moderators_are_told(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")  # report_threshold defaults to 3
    idea = make_idea(session, call)
    moderator = make_user(session, role=Role.moderator)
    reporters = [make_user(session) for _ in range(3)]
    session.commit()

    for n, reporter in enumerate(reporters, start=1):
        client.login_as(reporter)
        assert client.get(f"/ideas/{idea.id}/report").status_code == 200
        response = client.submit(f"/ideas/{idea.id}/report", {"reason": "spam", "details": ""})
        assert response.status_code == 303
        session.expire_all()
        stored = session.get(Idea, idea.id)
        assert stored is not None and stored.report_count == n
        assert (stored.hidden_at is not None) == (n == 3)
    # The last reporter can no longer see the idea: sent back to the call.
    assert response.headers["location"] == f"/calls/{call.slug}"
    notes = report_notifications(session)
    assert [n.user_id for n in notes] == [moderator.id]
    # Hidden pending review: out of public view, still there for moderators.
    client.cookies.clear()
    assert client.get(f"/ideas/{idea.id}").status_code == 404
    client.login_as(moderator)
    assert client.get(f"/ideas/{idea.id}").status_code == 200


def test_one_report_per_person_and_clear_refusals(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    author = make_user(session)
    idea = make_idea(session, call, author)
    reporter, unverified = make_user(session), make_user(session, verified=False)
    session.commit()

    client.login_as(reporter)
    bad = client.submit(f"/ideas/{idea.id}/report", {"reason": "nonsense"})
    assert bad.status_code == 422 and "Veuillez choisir un motif." in bad.text
    vague = client.submit(f"/ideas/{idea.id}/report", {"reason": "other", "details": ""})
    assert vague.status_code == 422 and "Veuillez nous dire brièvement ce qui ne va pas." in vague.text
    assert reports_on(session, "idea", idea.id) == 0

    assert client.submit(f"/ideas/{idea.id}/report", {"reason": "insult"}, headers=JSON).status_code == 200
    again = client.submit(f"/ideas/{idea.id}/report", {"reason": "spam"}, headers=JSON)
    assert again.status_code == 409
    assert again.json()["error"] == "Vous avez déjà signalé ce contenu. Une modératrice ou un modérateur va l’examiner."
    assert reports_on(session, "idea", idea.id) == 1

    client.login_as(author)  # one's own idea
    assert client.submit(f"/ideas/{idea.id}/report", {"reason": "spam"}).status_code == 403
    client.login_as(unverified)
    assert client.submit(f"/ideas/{idea.id}/report", {"reason": "spam"}).status_code == 403
    assert reports_on(session, "idea", idea.id) == 1


def test_reported_comment_is_hidden_but_keeps_its_place(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting", report_threshold=2)
    idea = make_idea(session, call)
    writer = make_user(session)
    make_user(session, role=Role.moderator)
    reporters = [make_user(session) for _ in range(2)]
    session.commit()
    client.login_as(writer)
    client.submit(f"/ideas/{idea.id}/comments", {"body": "Propos insultants"})
    comment = session.exec(select(Comment).where(Comment.idea_id == idea.id)).one()

    for reporter in reporters:
        client.login_as(reporter)
        assert client.submit(f"/comments/{comment.id}/report", {"reason": "insult"}).status_code == 303
    session.expire_all()
    comment = session.get(Comment, comment.id)
    assert comment is not None and comment.hidden_at is not None and comment.report_count == 2
    assert len(report_notifications(session)) == 1
    page = client.get(f"/ideas/{idea.id}").text
    assert "Propos insultants" not in page
    assert "Ce commentaire est masqué" in page


def test_ten_parallel_reporters_with_duplicates_are_counted_exactly(live_server: LiveServer,
                                                                    session: Session) -> None:
    call = make_call(session, phase="voting", report_threshold=10)
    idea = make_idea(session, call)
    make_user(session, role=Role.moderator)
    tokens = [session_token(session, make_user(session)) for _ in range(10)]
    url = f"/ideas/{idea.id}/report"  # read before the threads: the test session is not theirs

    def report(i: int) -> int:
        # Every reporter sends the same report twice at once.
        with browser(live_server, tokens[i // 2]) as http:
            return http.post(url, data={"reason": "spam"}).status_code

    statuses = in_parallel(20, report)
    assert statuses.count(200) == 10
    assert all(s in (200, 404, 409) for s in statuses)  # 404: already hidden for its duplicate
    session.expire_all()
    stored = session.get(Idea, idea.id)
    assert stored is not None
    assert reports_on(session, "idea", idea.id) == 10 == stored.report_count
    assert stored.hidden_at is not None
    assert len(report_notifications(session)) == 1


def test_parallel_reporters_past_the_threshold_keep_the_count_exact(live_server: LiveServer,
                                                                    session: Session) -> None:
    call = make_call(session, phase="voting", report_threshold=3)
    idea = make_idea(session, call)
    make_user(session, role=Role.moderator)
    tokens = [session_token(session, make_user(session)) for _ in range(10)]
    url = f"/ideas/{idea.id}/report"  # read before the threads: the test session is not theirs

    def report(i: int) -> int:
        with browser(live_server, tokens[i]) as http:
            return http.post(url, data={"reason": "hate"}).status_code

    statuses = in_parallel(10, report)
    assert set(statuses) <= {200, 404}  # once hidden, the idea is no longer there to report
    session.expire_all()
    stored = session.get(Idea, idea.id)
    assert stored is not None and stored.hidden_at is not None
    assert reports_on(session, "idea", idea.id) == stored.report_count == statuses.count(200) >= 3
    assert len(report_notifications(session)) == 1


def test_moderators_get_an_email_in_their_language(mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    call = make_call(session, phase="voting", report_threshold=1)
    idea = make_idea(session, call, title="Publicité déguisée")
    make_user(session, role=Role.moderator, email="moderatorin@example.org", language="de")
    reporter = make_user(session)
    session.commit()
    mail_client.login_as(reporter)
    assert mail_client.submit(f"/ideas/{idea.id}/report", {"reason": "spam"}).status_code == 303
    mail_client.run_worker()
    message = smtp.last_to("moderatorin@example.org")
    assert str(make_header(decode_header(message["Subject"]))) == "Zu prüfen: Inhalt nach Meldungen ausgeblendet"
    assert "Nach mehreren Meldungen ist die Idee von „Publicité déguisée“ ausgeblendet" in body_of(message)
    assert smtp.to(reporter.email) == []
