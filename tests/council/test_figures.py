"""The participation report's figures equal the ones counted by hand on tests.council.dataset."""

from sqlmodel import Session

from app.council import exports, figures
from app.intake.models import IdeaIntake
from app.settings import Settings
from app.vote.models import Vote
from tests.council.dataset import build
from tests.factories import make_idea


def _row(rows: list[figures.Slice], label: str) -> tuple[int, int, int, int]:
    part = next(r for r in rows if r.label == label)
    return part.ideas, part.supports, part.comments, part.participants


def test_staff_figures_of_a_call_equal_the_hand_count(session: Session) -> None:
    w = build(session)
    report = figures.participation(session, w.call)
    t = report.total
    assert (t.ideas, t.supports, t.comments, t.participants) == (4, 6, 4, 6)
    assert (t.submitters, t.supporters, t.commenters) == (3, 5, 4)
    assert _row(report.by["district"], "Nord") == (2, 3, 3, 4)
    assert _row(report.by["district"], "Sud") == (1, 3, 1, 4)
    assert _row(report.by["district"], "") == (1, 0, 0, 1)
    assert _row(report.by["theme"], "Mobilité") == (2, 2, 2, 4)
    assert _row(report.by["theme"], "Nature") == (2, 4, 2, 5)
    # ISO weeks in Brussels: the Sunday-night support (UTC) belongs to week 11.
    assert [(r.label, r.ideas, r.supports, r.comments) for r in report.by["week"]] == [
        ("2026-W10", 2, 1, 1), ("2026-W11", 2, 5, 3)]
    assert _row(report.by["language"], "fr") == (2, 3, 3, 4)
    assert _row(report.by["language"], "nl") == (1, 1, 0, 1)
    assert _row(report.by["language"], "de") == (1, 2, 1, 1)
    assert _row(report.by["verification"], "verified") == (1, 1, 0, 1)
    assert _row(report.by["verification"], "not_verified") == (3, 5, 4, 5)
    # Age bands: the verified resident's, recorded at verification; nobody else's age is known.
    assert [r.key for r in report.by["age"]] == ["under_18", "18_24", "25_34", "35_49", "50_64", "65_plus", ""]
    assert _row(report.by["age"], "25_34") == (1, 1, 0, 1)
    assert _row(report.by["age"], "") == (3, 5, 4, 5)
    assert _row(report.by["age"], "65_plus") == (0, 0, 0, 0)
    assert [(m.moderator, m.decisions) for m in report.workload] == [("Modératrice Ana", 4), ("Admin Bob", 1)]
    assert report.decided_ideas == 3
    assert report.median_first_decision_days == 1.0
    assert (report.reports, report.reports_handled) == (2, 1)
    assert report.answers is not None and report.answers.answered == 1


def test_public_figures_leave_out_hidden_ideas_and_comments(session: Session) -> None:
    w = build(session)
    report = figures.participation(session, w.call, scope="public")
    t = report.total
    assert (t.ideas, t.supports, t.comments, t.participants) == (2, 5, 2, 6)
    assert _row(report.by["district"], "Nord") == (1, 2, 2, 4)
    assert _row(report.by["district"], "Sud") == (1, 3, 0, 4)
    assert report.answers is None and report.workload == []


def test_platform_figures_add_every_call(session: Session) -> None:
    w = build(session)
    report = figures.participation(session)
    t = report.total
    assert (t.ideas, t.supports, t.comments, t.participants) == (5, 7, 4, 6)
    assert [(m.moderator, m.decisions) for m in report.workload] == [("Modératrice Ana", 5), ("Admin Bob", 1)]
    assert (report.reports, report.reports_handled) == (3, 2)
    assert "Mobilité (" + w.call.slug + ")" in {r.label for r in report.by["theme"]}


def test_ideas_entered_for_residents_are_counted_by_channel(session: Session, settings: Settings) -> None:
    """Paper intake (issue 18): ideas entered by staff on a resident's behalf are counted apart,
    as ideas but not as participants (they have no author); what was proposed online is as before."""
    w = build(session)
    before = figures.participation(session, w.call).total
    paper = make_idea(session, w.call, w.anne, title="Un banc rue Hors-Château", status="published")
    paper.author_id = None  # as app.intake enters it: no account behind it
    paper.language = "nl"  # written in Dutch (the dataset's other ideas record no language)
    session.add(paper)
    session.flush()
    session.add(IdeaIntake(idea_id=paper.id or 0, call_id=w.call.id or 0, channel="paper", display_name="Jeanne"))
    session.add(Vote(idea_id=paper.id or 0, user_id=w.eve.id or 0, call_id=w.call.id or 0,
                     category_id=paper.category_id))
    session.commit()
    report = figures.participation(session, w.call)
    channel = {r.key: (r.ideas, r.supports, r.comments, r.participants) for r in report.by["channel"]}
    assert channel["online"] == (before.ideas, before.supports, before.comments, before.participants)
    assert channel["paper"] == (1, 1, 0, 1)  # the idea, and Eve who supported it
    assert channel["email"] == channel["phone"] == channel["counter"] == channel["event"] == (0, 0, 0, 0)
    assert report.total.ideas == before.ideas + 1 and report.total.submitters == before.submitters
    written = {r.key: (r.ideas, r.supports, r.comments) for r in report.by["written"]}
    assert written == {"nl": (1, 1, 0), "": (before.ideas, before.supports, before.comments)}
    ideas = exports.idea_tables(session, settings, w.call)[0]
    received = {row[1]: row[-1] for row in ideas.rows}  # title -> the last column, "Received"
    assert ideas.headers[-1] == "Reçue"  # the files are in the reader's language, French here
    assert received["Un banc rue Hors-Château"] == "Papier"
    assert set(received.values()) == {"Papier", "Sur la plateforme"}
