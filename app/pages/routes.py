"""Pages that belong to no single domain: the home page, the offline page, the service worker,
and what crawlers ask the root for (robots.txt, the sitemap; favicon.ico follows the logo:
app.identity.routes)."""

import hashlib
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import AppSettings, CurrentUser, DbSession
from app.errors import NotFound
from app.moderation import dialogue
from app.pagecache import memo
from app.pages import home as home_page
from app.pages import sitemap
from app.web import STATIC_DIR, render

router = APIRouter(include_in_schema=False)


@router.get("/", name="page:home")
def home(request: Request, session: DbSession, user: CurrentUser) -> HTMLResponse:
    # The calls' sections (open calls, recent results) extend pages/home.html. The answer
    # figures are the dialogue figures of the whole platform, as the administrators read them.
    # Kept while nothing is written (app.pagecache.memo), as the call pages keep theirs: they
    # read every public idea and comment (2 s at 100,000 ideas and 300,000 comments, SQLite).
    answers = memo.remembered(session, "dialogue", (None,), lambda: dialogue.figures(session))
    return render(request, "call/home_sections.html", home_page.home_context(
        session, user, answered_share=answers.answered_share, median_days=answers.median_days))


@router.get("/offline", name="page:offline")
def offline(request: Request) -> HTMLResponse:
    # The service worker stores this page: it must be the same for everyone, with nobody's name.
    return render(request, "pages/offline.html", {"current_user": None})


@cache
def _service_worker_source() -> bytes:
    """static/js/sw.js with its cache version set from the static files' contents, so that a
    deployment that changes any asset installs a new worker, which drops the old cache."""
    digest = hashlib.sha256()
    for path in sorted(p for p in STATIC_DIR.rglob("*") if p.is_file()):
        digest.update(path.relative_to(STATIC_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    source = (STATIC_DIR / "js" / "sw.js").read_text(encoding="utf-8")
    return source.replace('const VERSION = "v1";', f'const VERSION = "{digest.hexdigest()[:12]}";').encode()


@router.get("/sw.js", name="page:service_worker")
def service_worker() -> Response:
    """The service worker, served from the root so that it may control every page."""
    return Response(_service_worker_source(), media_type="application/javascript",
                    headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"})


@router.get("/robots.txt", name="page:robots")
def robots(settings: AppSettings) -> Response:
    return Response(sitemap.robots_txt(settings), media_type="text/plain; charset=utf-8")


@router.get("/sitemap.xml", name="page:sitemap")
def sitemap_index(session: DbSession, settings: AppSettings) -> Response:
    return Response(sitemap.index_xml(session, settings), media_type="application/xml")


@router.get("/sitemap-pages.xml", name="page:sitemap_pages")
def sitemap_pages(session: DbSession, settings: AppSettings) -> Response:
    return Response(sitemap.pages_xml(session, settings), media_type="application/xml")


@router.get("/sitemap-ideas-{number}.xml", name="page:sitemap_ideas")
def sitemap_ideas(session: DbSession, settings: AppSettings, number: int) -> Response:
    body = sitemap.ideas_xml(session, settings, number)
    if body is None:
        raise NotFound()
    return Response(body, media_type="application/xml")
