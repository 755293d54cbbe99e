"""Share images: 1200×630 PNGs drawn from what the public may see, cached on disk by what they
show, drawn again when the title or the figures change."""

from io import BytesIO

from PIL import Image, ImageDraw, ImageFont
from sqlmodel import Session

from app.media import service as media_service
from app.settings import Settings
from app.share import images
from tests.factories import make_call, make_idea
from tests.idea.helpers import png
from tests.support import WebClient


def _png(client: WebClient, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["x-content-type-options"] == "nosniff"
    with Image.open(BytesIO(response.content)) as image:
        assert (image.format, image.size) == ("PNG", (1200, 630))
    return response.content


def _cached(settings: Settings) -> list[str]:
    folder = images.cache_dir(settings)
    return sorted(p.name for p in folder.glob("*.png")) if folder.is_dir() else []


def test_an_idea_image_is_cached_and_drawn_again_when_its_title_changes(
        client: WebClient, session: Session, settings: Settings) -> None:
    call = make_call(session, title="Liège à vélo")
    idea = make_idea(session, call, title="Des arceaux à Outremeuse")
    session.commit()
    url = f"/ideas/{idea.id}/share.png"

    first = _png(client, url)
    assert len(_cached(settings)) == 1
    assert _png(client, url) == first  # served from the cache: same bytes, no new file
    assert len(_cached(settings)) == 1

    idea.title = "Des arceaux à Outremeuse et à Sainte-Marguerite"
    session.add(idea)
    session.commit()
    second = _png(client, url)
    assert second != first
    assert len(_cached(settings)) == 2

    idea.vote_count = 7  # its figures are on the card too
    session.add(idea)
    session.commit()
    assert _png(client, url) not in (first, second)


def test_a_call_image_changes_with_its_figures(client: WebClient, session: Session) -> None:
    call = make_call(session, title="Parcs et jardins de Liège")
    session.commit()
    url = f"/calls/{call.slug}/share.png"
    empty = _png(client, url)
    assert _png(client, url) == empty
    make_idea(session, call, vote_count=3, answer_status="accepted")
    session.commit()
    assert _png(client, url) != empty
    # A hidden idea counts for nothing: the card is the same as before it existed.
    before = _png(client, url)
    make_idea(session, call, status="rejected", vote_count=50)
    session.commit()
    assert _png(client, url) == before


def test_the_etag_answers_304_while_the_card_is_the_same(client: WebClient, session: Session) -> None:
    call = make_call(session)
    session.commit()
    response = client.get(f"/calls/{call.slug}/share.png")
    again = client.get(f"/calls/{call.slug}/share.png", headers={"if-none-match": response.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    call.title = "Un autre titre"
    session.add(call)
    session.commit()
    changed = client.get(f"/calls/{call.slug}/share.png", headers={"if-none-match": response.headers["etag"]})
    assert changed.status_code == 200


def test_long_titles_wrap_on_three_lines_ending_with_an_ellipsis() -> None:
    pen = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    face = images.font(images.TITLE_SIZE, True)
    title = "Réaménager la place du Marché, la rue Féronstrée et le quai de la Goffe pour les piétons " * 3
    lines = images.wrap(pen, title, face, 1040, 3)
    assert len(lines) == 3
    assert lines[-1].endswith("…")
    assert all(pen.textlength(line, font=face) <= 1040 for line in lines)
    one_word = images.wrap(pen, "x" * 400, face, 1040, 3)
    assert len(one_word) == 3 and one_word[-1].endswith("…")
    assert images.wrap(pen, "Court", face, 1040, 3) == ["Court"]


def test_accented_text_is_drawn_with_a_font_that_has_the_letters() -> None:
    face = images.font(images.TITLE_SIZE, True)
    # DejaVu, installed by scripts/setup (fonts-dejavu-core), has the accents: É reaches higher than E.
    assert isinstance(face, ImageFont.FreeTypeFont) and face.getname() == ("DejaVu Sans", "Bold")
    assert face.getbbox("É")[1] < face.getbbox("E")[1]
    data = images.draw(images.Card(brand="Réinventons", title="Étés à Liège: çà et là, Überall, één",
                                   subtitle="Ça", figures="1 idée"))
    with Image.open(BytesIO(data)) as image:
        assert image.size == (1200, 630)


def test_a_call_cover_fills_the_right_of_its_card(client: WebClient, session: Session, settings: Settings) -> None:
    call = make_call(session, title="Des arbres rue Saint-Gilles")
    session.commit()
    url = f"/calls/{call.slug}/share.png"
    plain = _png(client, url)
    cover = media_service.store_image(session, settings, data=png(900, 600, (200, 30, 30)), owner_id=None)
    call.cover_id = cover.id
    session.add(call)
    session.commit()

    covered = _png(client, url)
    assert covered != plain
    with Image.open(BytesIO(covered)) as image:
        red, green, _blue = image.convert("RGB").getpixel((1200 - 200, 315))  # type: ignore[misc]
        assert red > 150 and green < 80  # the cover's red, not the card's green
        assert image.convert("RGB").getpixel((40, 315)) == images.BACKGROUND
    call.cover_id = None
    session.add(call)
    session.commit()
    assert _png(client, url) == plain
