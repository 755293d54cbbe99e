"""A logged-in citizen's call page comes from the shell kept for their viewer shape
(app.call.shell): citizens of one shape share it with only their name and token put in, every
viewer's page is the page rendered afresh for them, a viewer of another shape never gets
another's, and no shell holds a name, an e-mail address or a token."""

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi import FastAPI
from jinja2 import ChoiceLoader, DictLoader
from sqlmodel import Session

from app.account.models import Role, User
from app.call import cards, shell
from app.call.models import VoteScope
from app.main import create_app
from app.notify.models import Notification, NotificationKind
from app.settings import Settings
from app.web import SHARED_RENDER, SharedRenderAsked, env
from tests.factories import make_call, make_category, make_idea, make_user
from tests.support import WebClient, make_settings


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def browsers(app: FastAPI) -> Iterator[Callable[[User], WebClient]]:
    """A browser of its own (cookies, CSRF seed) for each viewer, all on one server process."""
    with ExitStack() as stack:
        yield lambda user: stack.enter_context(WebClient(app, base_url="http://testserver")).login_as(user)


def _shells() -> list[str]:
    return [html for html in cards.kept_html() if html.startswith("<!DOCTYPE html>")]


def _afresh(web: WebClient, path: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The page as Jinja renders it for the viewer, with no shell made or used."""
    with monkeypatch.context() as patched:
        patched.setattr(shell, "viewer_shape", lambda *args: None)
        return web.get(path).text


def test_citizens_of_one_shape_share_a_shell_with_only_their_name_and_token_put_in(
        browsers: Callable[[User], WebClient], session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    call = make_call(session, phase="voting")
    for n in range(4):
        make_idea(session, call, title=f"Idée <b>{n}</b> & “guillemets”")
    amandine = make_user(session, display_name="Amandine <Lejeune> & fils", email="amandine@example.org")
    jules = make_user(session, display_name="Jules Piron", email="jules@example.org")
    session.commit()
    path = f"/calls/{call.slug}"
    cards.forget()
    first, second = browsers(amandine), browsers(jules)
    pages = {web: web.get(path).text for web in (first, second)}
    assert len(_shells()) == 1  # the second page came from the first one's shell

    assert "Amandine &lt;Lejeune&gt; &amp; fils" in pages[first] and "Jules" not in pages[first]
    assert "Jules Piron" in pages[second] and "Amandine" not in pages[second]
    for web in (first, second):
        assert set(re.findall(r'name="csrf_token" value="([^"]+)"', pages[web])) == {web.csrf()}
        assert pages[web] == _afresh(web, path, monkeypatch)
    blank = [pages[first].replace("Amandine &lt;Lejeune&gt; &amp; fils", "N").replace(first.csrf(), "T"),
             pages[second].replace("Jules Piron", "N").replace(second.csrf(), "T")]
    assert blank[0] == blank[1]
    for html in _shells():
        for personal in ("Amandine", "Jules", "@example.org", first.csrf(), second.csrf()):
            assert personal not in html
        assert str(shell.NAME_SLOT) in html and str(cards.CSRF_SLOT) in html


def test_a_viewer_of_another_shape_never_gets_anothers_page(
        browsers: Callable[[User], WebClient], session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    call = make_call(session, phase="voting", votes_per_citizen=3)
    theme = make_category(session, call, name="Mobilité")
    ideas = [make_idea(session, call, title=f"Idée {n}", category=theme) for n in range(4)]
    citizen = make_user(session, display_name="Citoyenne")
    same = make_user(session, display_name="Même forme")
    moderator = make_user(session, display_name="Modératrice", role=Role.moderator)
    admin = make_user(session, display_name="Administratrice", role=Role.admin)
    unconfirmed = make_user(session, display_name="Pas confirmée", verified=False)
    notified = make_user(session, display_name="Notifiée")
    supporter = make_user(session, display_name="Soutien")
    author = make_user(session, display_name="Autrice")
    make_idea(session, call, author, title="Mon idée à moi")
    session.commit()
    assert notified.id is not None
    session.add(Notification(user_id=notified.id, kind=NotificationKind.comment, subject="Un avis"))
    session.commit()
    path = f"/calls/{call.slug}"
    viewers = {user.display_name: browsers(user)
               for user in (citizen, same, moderator, admin, unconfirmed, notified, supporter, author)}
    assert viewers["Soutien"].submit(f"/ideas/{ideas[1].id}/vote").status_code == 303
    viewers["Soutien"].get(path)  # the support's message, shown once and never kept
    cards.forget()
    for _round in range(2):  # the second round from the shells the first one kept
        for name, web in viewers.items():
            page = web.get(path).text
            assert page == _afresh(web, path, monkeypatch), name
            assert f">{name}<" in page and [n for n in viewers if n != name and f">{n}<" in page] == []
    # One shell for each shape: the two citizens share theirs, every other viewer has their own
    # but the author, whose page lists their own ideas (a pending one's title among them).
    assert len(_shells()) == len(viewers) - 2
    assert not any('id="own-title"' in html for html in _shells())
    pages = {name: web.get(path).text for name, web in viewers.items()}
    assert ">Modération<" in pages["Modératrice"] and ">Modération<" not in pages["Citoyenne"]
    assert ">Administration<" in pages["Administratrice"] and ">Administration<" not in pages["Modératrice"]
    assert "confirmer votre adresse" in pages["Pas confirmée"] and "confirmer votre adresse" not in pages["Citoyenne"]
    assert '<span class="badge">1</span>' in pages["Notifiée"] and 'class="badge"' not in pages["Citoyenne"]
    assert "Mon idée à moi" in pages["Autrice"].split('id="own-title"')[1][:400]
    assert 'id="own-title"' not in pages["Citoyenne"]
    left = re.compile(r'data-left-bucket="call">([^<]+)<')
    assert "2" in left.findall(pages["Soutien"])[0] and "3" in left.findall(pages["Citoyenne"])[0]


def test_a_page_with_a_message_is_not_kept(browsers: Callable[[User], WebClient], session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    citizen = make_user(session)
    session.commit()
    web = browsers(citizen)
    cards.forget()
    assert web.submit(f"/ideas/{idea.id}/vote", {"next": f"/calls/{call.slug}"}).status_code == 303
    assert 'class="flash' in web.get(f"/calls/{call.slug}").text
    assert _shells() == []
    assert 'class="flash' not in web.get(f"/calls/{call.slug}").text  # shown once
    assert len(_shells()) == 1


@pytest.mark.parametrize("asking", [
    "{{ request.state.user.email }}", "{{ request.headers.get('user-agent') }}", "{{ request.cookies }}",
    "{{ allowance.held }}", "{{ current_user.email }}", "{{ can(current_user, 'moderation.queue') }}",
    '{% import "_macros/forms.html" as forms %}{{ forms.once() }}'])
def test_a_call_page_template_asking_more_of_its_viewer_fails_instead_of_sharing_it(
        browsers: Callable[[User], WebClient], session: Session, monkeypatch: pytest.MonkeyPatch,
        asking: str) -> None:
    # A template of the call page that printed the viewer's e-mail address, a header of theirs or
    # a one-time form token would, kept, show it to every citizen of the same shape.
    probe = "{% extends \"call/detail.html\" %}{% block head %}{{ super() }}" + asking + "{% endblock %}"
    monkeypatch.setattr(env, "loader", ChoiceLoader([DictLoader({"probe.html": probe}), env.loader]))  # type: ignore[list-item]
    monkeypatch.setattr(shell, "TEMPLATE", "probe.html")
    call = make_call(session, phase="voting")
    make_idea(session, call)
    citizen = make_user(session, email="amandine@example.org")
    session.commit()
    cards.forget()
    with pytest.raises(SharedRenderAsked):  # shell.ViewerAsked from the stand-ins, or from the globals
        browsers(citizen).get(f"/calls/{call.slug}")
    assert _shells() == []


def test_a_template_asking_more_of_its_viewer_fails_rather_than_keeping_it() -> None:
    viewer = shell.ShellViewer(email_confirmed=True)
    assert viewer.display_name is shell.NAME_SLOT and viewer.email_verified_at
    allowance = shell.ShellAllowance(((None, 3),))
    request = shell.ShellRequest("/calls/appel", "page=2")
    assert allowance.left(None, None) == 3 and request.url.path == "/calls/appel"
    for asking, what in ((lambda: viewer.email, "'email'"), (lambda: viewer.id, "'id'"),
                         (lambda: allowance.left(None, 7), "bucket 7"), (lambda: allowance.held, "'held'"),
                         (lambda: request.state, "'state'"), (lambda: request.headers, "'headers'"),
                         (lambda: request.cookies, "'cookies'")):
        with pytest.raises(shell.ViewerAsked, match=what):
            asking()
    # A macro imported without context sees the environment's globals, not the stand-ins: while
    # a shared page is rendered, those refuse too (a shared one-time token, the real roles).
    once = env.from_string('{% import "_macros/forms.html" as forms %}{{ forms.once() }}')
    role = env.from_string('{{ can(None, "admin.access") }}')
    assert 'name="form_token"' in once.render() and role.render() == "False"  # for one viewer
    shared = SHARED_RENDER.set(True)
    try:
        for template, what in ((once, "one-time form token"), (role, "role check")):
            with pytest.raises(SharedRenderAsked, match=what):
                template.render()
    finally:
        SHARED_RENDER.reset(shared)


def test_supports_left_in_a_theme_not_on_the_page_are_part_of_the_shape(
        browsers: Callable[[User], WebClient], session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    # Filtered to one theme, two citizens' cards are in the same state; the rules block still
    # lists what each has left in every theme, and one of them supported in the other theme.
    call = make_call(session, phase="voting", votes_per_citizen=3, vote_scope=VoteScope.category)
    shown, other = make_category(session, call, name="Mobilité"), make_category(session, call, name="Culture")
    make_idea(session, call, title="Sur la page", category=shown)
    elsewhere = make_idea(session, call, title="Ailleurs", category=other)
    supporter, citizen = make_user(session, display_name="Soutien"), make_user(session, display_name="Citoyenne")
    session.commit()
    path = f"/calls/{call.slug}?category={shown.id}"
    webs = [browsers(supporter), browsers(citizen)]
    assert webs[0].submit(f"/ideas/{elsewhere.id}/vote").status_code == 303
    webs[0].get(path)  # the support's message, shown once
    cards.forget()
    left = re.compile(rf'data-left-bucket="{other.id}">([^<]+)<')
    for _round in range(2):
        pages = [web.get(path).text for web in webs]
        assert [left.findall(page)[0][:12] for page in pages] == ["Il vous rest", "Il vous rest"]
        assert "2" in left.findall(pages[0])[0] and "3" in left.findall(pages[1])[0]
        for web, page in zip(webs, pages, strict=True):
            assert page == _afresh(web, path, monkeypatch)


def test_servers_at_two_addresses_on_one_database_keep_shells_of_their_own(
        tmp_path: Path, database_url: str, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    # The share preview's links are absolute: a shell made by one server is not another's.
    call = make_call(session, phase="voting")
    make_idea(session, call)
    first, second = make_user(session), make_user(session)
    session.commit()
    path = f"/calls/{call.slug}"
    cards.forget()
    with ExitStack() as stack:
        webs = [stack.enter_context(WebClient(create_app(make_settings(tmp_path / name, database_url, base_url=url)),
                                              base_url=url)).login_as(user)
                for name, url, user in (("one", "http://testserver", first),
                                        ("two", "https://participer.example", second))]
        pages = [web.get(path).text for web in webs]
        assert '<link rel="canonical" href="https://participer.example/calls/' in pages[1]
        assert pages[1] == _afresh(webs[1], path, monkeypatch)
    assert len(_shells()) == 2
