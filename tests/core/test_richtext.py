"""What people paste renders faithfully (issue 10, defect 16): a corpus of pasted texts, each
with what CommonMark/GFM (GitHub's comments) would show. A bare YouTube address lost its
underscores to emphasis (`watch?v=<em>2</em>-21bdGe4`), and bare addresses were not links."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from app.clock import utcnow
from app.richtext import plain_excerpt, render_markdown
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient

REL = 'rel="nofollow ugc noopener"'

CORPUS = [
    # (pasted text, fragments the HTML must hold, fragments it must not)
    ("https://www.youtube.com/watch?v=_2_-21bdGe4",
     [f'<a href="https://www.youtube.com/watch?v=_2_-21bdGe4" {REL}>https://www.youtube.com/watch?v=_2_-21bdGe4</a>'],
     ["<em>"]),
    ("Voir la vidéo https://www.youtube.com/watch?v=_2_-21bdGe4&t=42s. Merci !",
     [f'<a href="https://www.youtube.com/watch?v=_2_-21bdGe4&amp;t=42s" {REL}>', "</a>. Merci !"], ["<em>"]),
    ("Le plan (https://fr.wikipedia.org/wiki/Liège_(ville)) est clair",
     ['(<a href="https://fr.wikipedia.org/wiki/Li%C3%A8ge_(ville)"', "Liège_(ville)</a>) est"], []),
    ("Site de la ville : www.liege.be ou liege.be",
     [f'<a href="http://www.liege.be" {REL}>www.liege.be</a>', f'<a href="http://liege.be" {REL}>liege.be</a>'], []),
    ("Fichiers joints : readme.md et script.py", ["readme.md et script.py"], ["<a "]),
    ("Écrivez à participation@liege.be", [f'<a href="mailto:participation@liege.be" {REL}>participation@liege.be</a>'],
     []),
    ("[le dossier](https://www.liege.be/fr/__dossier__)",
     [f'<a href="https://www.liege.be/fr/__dossier__" {REL}>le dossier</a>'], ["<strong>"]),
    ("<https://x.be/_a_b_>", [f'<a href="https://x.be/_a_b_" {REL}>https://x.be/_a_b_</a>'], ["<em>"]),
    ("Première ligne\nDeuxième ligne\nTroisième", ["Première ligne<br>\nDeuxième ligne<br>\nTroisième"], []),
    ("Paragraphe un.\n\nParagraphe deux.", ["<p>Paragraphe un.</p>", "<p>Paragraphe deux.</p>"], []),
    ("- des arbres\n- des bancs\n- de l'ombre", ["<ul>\n<li>des arbres</li>\n<li>des bancs</li>", "</ul>"], []),
    ("* un\n* deux", ["<ul>\n<li>un</li>\n<li>deux</li>\n</ul>"], []),
    ("1. d'abord\n2. ensuite", ["<ol>\n<li>d'abord</li>\n<li>ensuite</li>\n</ol>"], []),
    ("3. troisième point\n4. quatrième", ['<ol start="3">\n<li>troisième point</li>'], []),
    ("1) un\n2) deux", ["<ol>\n<li>un</li>\n<li>deux</li>\n</ol>"], []),
    ("Nos idées :\n- une\n- deux", ["<p>Nos idées :</p>\n<ul>\n<li>une</li>"], []),
    ("Le champ `nom_de_rue_officiel` est vide", ["<code>nom_de_rue_officiel</code>"], ["<em>"]),
    ("```\nif a_b_c:\n    print(\"<b>\")\n```", ["<pre><code>if a_b_c:\n    print(\"&lt;b&gt;\")\n</code></pre>"],
     ["<b>", "<em>"]),
    ("    code indenté_ici", ["<pre><code>code indenté_ici\n</code></pre>"], []),
    ("un mot_avec_des_soulignés et __init__", ["mot_avec_des_soulignés"], ["<em>"]),
    ("*italique* et **gras** et ~~barré~~", ["<em>italique</em>", "<strong>gras</strong>", "<s>barré</s>"], []),
    ("Super idée 🌳🚲👍 ! ❤️", ["Super idée 🌳🚲👍 ! ❤️"], []),
    ("> Citation du conseil\n> communal", ["<blockquote>\n<p>Citation du conseil<br>\ncommunal</p>\n</blockquote>"],
     []),
    ("## Mon titre", ["<h3>Mon titre</h3>"], ["<h2>"]),
    ("<b>gras</b> <script>alert(1)</script>", ["&lt;b&gt;gras&lt;/b&gt;", "&lt;script&gt;"], ["<script", "<b>"]),
    ("[clic](javascript:alert(1)) et javascript:alert(2)", [], ["href=\"javascript", "href='javascript"]),
    ("![image](https://x.be/a.png)", [], ["<img"]),
    ("https://tracker.example.com/very/long/" + "segment_" * 20 + "end",
     [f'{REL}>https://tracker.example.com/very/long/segment_segment_'], ["<em>"]),
]


@pytest.mark.parametrize(("source", "present", "absent"), CORPUS, ids=[c[0][:40] for c in CORPUS])
def test_pasted_text_renders_faithfully(source: str, present: list[str], absent: list[str]) -> None:
    html = render_markdown(source)
    for fragment in present:
        assert fragment in html, f"{fragment!r} missing from {html!r}"
    for fragment in absent:
        assert fragment not in html, f"{fragment!r} found in {html!r}"
    # Every link says it is the user's, not ours.
    assert html.count("<a ") == html.count(REL)


def test_the_excerpt_keeps_an_address_whole() -> None:
    excerpt = plain_excerpt("Regardez https://www.youtube.com/watch?v=_2_-21bdGe4 pour comprendre")
    assert excerpt == "Regardez https://www.youtube.com/watch?v=_2_-21bdGe4 pour comprendre"


def test_an_idea_and_a_comment_with_a_pasted_address_show_it_as_a_link(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    author = make_user(session)
    author.created_at = utcnow() - timedelta(days=60)  # a new account's links wait for moderators
    session.add(author)
    session.commit()
    client.login_as(author)
    body = "Comme dans cette vidéo :\nhttps://www.youtube.com/watch?v=_2_-21bdGe4\n1. des bancs\n2. de l'ombre"
    idea = make_idea(session, call, author, body=body)  # written by render_markdown, as the form does
    session.commit()
    assert client.submit(f"/ideas/{idea.id}/comments", {"body": body}).status_code == 303
    page = client.get(f"/ideas/{idea.id}").text
    link = f'<a href="https://www.youtube.com/watch?v=_2_-21bdGe4" {REL}>https://www.youtube.com/watch?v=_2_-21bdGe4</a>'
    assert page.count(link) == 2  # the idea and the comment
    assert "<em>2</em>" not in page
