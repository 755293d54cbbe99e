"""The share images and the Atom feeds. Visitors' rules apply whoever asks: an image or a feed is
shared beyond the person who fetches it, so it shows only what anyone may see (a draft call, or
an idea that is hidden, draft, rejected or withdrawn, is 404 even for its author or a moderator)."""

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.call import queries as call_queries
from app.deps import AppSettings, DbSession
from app.errors import NotFound
from app.idea import queries as idea_queries
from app.idea.models import Idea
from app.identity import service as identity_service
from app.media import service as media_service
from app.media.models import MediaFile
from app.media.storage import StorageError
from app.settings import Settings
from app.share import feeds, images, previews

router = APIRouter(tags=["share"], include_in_schema=False)

# Cards keep their address while their figures change: caches may keep one an hour, then ask
# again with the ETag (a 304 while it is the same card).
IMAGE_CACHE = "public, max-age=3600"
FEED_CACHE = "public, max-age=300"
COVER_VARIANT = "card"


def _png(request: Request, key: str, data: bytes) -> Response:
    etag = f'"{key}"'
    headers = {"Cache-Control": IMAGE_CACHE, "ETag": etag, "X-Content-Type-Options": "nosniff",
               "Cross-Origin-Resource-Policy": "cross-origin"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="image/png", headers=headers)


def _cover(settings: Settings, media: MediaFile | None) -> Callable[[], bytes | None] | None:
    """What reads a cover's "card" variant (800 px) from the media storage, or None without a
    cover or that variant."""
    if media is None:
        return None
    try:
        media_service.variant_name(media, COVER_VARIANT)
    except NotFound:
        return None

    def read() -> bytes | None:
        try:
            return media_service.variant_bytes(settings, media, COVER_VARIANT)[0]
        except (NotFound, StorageError):  # the card is drawn without its photo
            return None
    return read


def _brand(request: Request) -> str:
    """The name the share images carry: the platform's, as the city set it (app.identity)."""
    return identity_service.for_request(request).platform_name

@router.get("/share/site.png", name="share:site_image")
def site_image(request: Request, settings: AppSettings) -> Response:
    """The site-wide share image, for pages with none of their own."""
    return _png(request, *images.cached_png(settings, previews.site_card(_brand(request))))


@router.get("/calls/{slug}/share.png", name="share:call_image")
def call_image(request: Request, session: DbSession, settings: AppSettings, slug: str) -> Response:
    """A public call's share image: its title and figures."""
    call = call_queries.visible_call_by_slug(session, slug, None)
    assert call.id is not None
    media = session.get(MediaFile, call.cover_id) if call.cover_id else None
    cover = _cover(settings, media)
    card = previews.call_card(call, idea_queries.call_figures(session, call.id), _brand(request),
                              cover_key=media.key if media is not None and cover is not None else "")
    return _png(request, *images.cached_png(settings, card, cover))


@router.get("/ideas/{idea_id}/share.png", name="share:idea_image")
def idea_image(request: Request, session: DbSession, settings: AppSettings, idea_id: int) -> Response:
    """A public idea's share image: its title, its call and its supports; 404 for any other idea."""
    idea = session.get(Idea, idea_id)
    if idea is None or not idea.is_public:
        raise NotFound()
    call = call_queries.visible_call_by_id(session, idea.call_id, None)
    return _png(request, *images.cached_png(settings, previews.idea_card(idea, call, _brand(request))))


@router.get("/calls/{slug}/feed.atom", name="share:call_feed")
def call_feed(session: DbSession, settings: AppSettings, slug: str) -> Response:
    """A public call's Atom feed: new ideas, official answers and results."""
    call = call_queries.visible_call_by_slug(session, slug, None)
    return Response(feeds.call_feed(session, settings, call), media_type=feeds.CONTENT_TYPE,
                    headers={"Cache-Control": FEED_CACHE, "X-Content-Type-Options": "nosniff"})
