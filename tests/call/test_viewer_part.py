"""What a call's list shows of its viewer, read in few statements (issue 14): their own ideas in
the call, whatever their status, and nobody else's; their supports left and the supports on
the page's cards, read with them in one statement that counts as app.vote.allowance does."""

from sqlmodel import Session

from app.call import queries as call_queries
from app.call.models import VoteScope
from app.clock import utcnow
from app.idea.models import IdeaStatus
from app.vote.allowance import allowance
from app.vote.models import Vote
from tests.factories import make_call, make_category, make_idea, make_user
from tests.support import WebClient


def test_the_list_shows_the_viewers_own_ideas_and_no_one_elses(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    other_call = make_call(session, phase="voting")
    author = make_user(session, display_name="Camille Lefèvre")
    make_idea(session, call, author, title="Un banc sous le tilleul")
    make_idea(session, call, author, title="Une fontaine à eau", status="submitted")
    make_idea(session, other_call, author, title="Une idée d'un autre appel")
    make_idea(session, call, title="L'idée de quelqu'un d'autre")
    session.commit()
    client.login_as(author)

    html = client.get(f"/calls/{call.slug}").text
    own = html[html.index('id="own-title"'):html.index("</section>", html.index('id="own-title"'))]
    assert "Un banc sous le tilleul" in own and "Une fontaine à eau" in own
    assert "En attente de modération" in own  # the one not published yet, with its status
    assert "Une idée d'un autre appel" not in own and "quelqu'un d'autre" not in own
    assert own.index("Une fontaine à eau") < own.index("Un banc sous le tilleul")  # newest first

    client.login_as(make_user(session))
    assert 'id="own-title"' not in client.get(f"/calls/{call.slug}").text


def test_supports_left_and_held_in_one_statement_count_as_the_allowance(session: Session) -> None:
    call = make_call(session, phase="voting", vote_scope=VoteScope.category, votes_per_citizen=3)
    other_call = make_call(session, phase="voting")
    mobility, green = make_category(session, call), make_category(session, call)
    ideas = [make_idea(session, call, category=mobility) for _ in range(3)]
    unthemed = make_idea(session, call)
    in_green = make_idea(session, call, category=green)
    hidden = make_idea(session, call, category=mobility)
    elsewhere = make_idea(session, other_call)
    voter, stranger = make_user(session), make_user(session)
    for idea in (*ideas[:2], unthemed, in_green, hidden, elsewhere):
        session.add(Vote(idea_id=idea.id or 0, user_id=voter.id or 0, call_id=idea.call_id,
                         category_id=idea.category_id))
    session.add(Vote(idea_id=ideas[2].id or 0, user_id=stranger.id or 0, call_id=call.id or 0))
    hidden.hidden_at = utcnow()  # a support of a hidden idea no longer counts
    session.add(hidden)
    session.commit()

    mine = make_idea(session, call, voter, title="Mon idée", status="submitted")
    session.commit()

    page = [ideas[0].id, ideas[2].id, in_green.id, hidden.id]
    part = call_queries.viewer_part(session, voter, call, page)
    assert part.allowance.held == allowance(session, user_id=voter.id, call_ids=[call.id or 0]).held
    assert part.allowance.held == {(call.id, mobility.id): 2, (call.id, None): 1, (call.id, green.id): 1}
    assert part.allowance.left(call, mobility.id) == 1 and part.allowance.left(call, green.id) == 2
    assert part.voted == {ideas[0].id, in_green.id, hidden.id}  # of this page's cards only
    assert [(i.id, i.title, i.status) for i in part.own_ideas] == [(mine.id, "Mon idée", IdeaStatus.submitted)]

    nothing = call_queries.viewer_part(session, None, call, page)
    assert nothing.allowance.held == {} and nothing.voted == set() and nothing.own_ideas == []
    strangers = call_queries.viewer_part(session, stranger, call, page)
    assert strangers.allowance.held == {(call.id, mobility.id): 1} and strangers.voted == {ideas[2].id}
    assert strangers.own_ideas == []
