"""The application factory. Read it as the table of contents of the platform."""

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import handlers, links, web
from app.account import oidc as account_oidc
from app.account import routes as account_routes
from app.account import selfservice_routes as account_selfservice_routes
from app.account.sessions import load_current_user
from app.admin import routes as admin_routes
from app.announce import admin_routes as announce_admin_routes
from app.announce import reply_routes as announce_reply_routes
from app.announce import routes as announce_routes
from app.assistant import admin_routes as assistant_admin_routes
from app.assistant import routes as assistant_routes
from app.body_limit import BodyLimitMiddleware
from app.budget import routes as budget_routes
from app.budget import staff_routes as budget_staff_routes
from app.call import admin as call_admin
from app.call import api as call_api
from app.call import routes as call_routes
from app.call import translation_routes as call_translations
from app.comment import routes as comment_routes
from app.council import api as council_api
from app.council import routes as council_routes
from app.db import WRITE_TURN, Database
from app.edge import Edge
from app.follow import routes as follow_routes
from app.head import HeadAsGetMiddleware
from app.i18n import LocaleMiddleware
from app.idea import routes as idea_routes
from app.identity import routes as identity_routes
from app.intake import routes as intake_routes
from app.maps import routes as maps_routes
from app.media import sandbox as photo_sandbox
from app.moderation import admin_routes as moderation_admin_routes
from app.moderation import people_routes as moderation_people_routes
from app.moderation import public_routes as moderation_public_routes
from app.moderation import review_routes as moderation_review_routes
from app.moderation import routes as moderation_routes
from app.newsletter import routes as newsletter_routes
from app.notify import routes as notify_routes
from app.observability import errors
from app.observability import routes as observability_routes
from app.pagecache.middleware import PageCacheMiddleware
from app.pagecache.store import PageCache
from app.pages import legal_routes
from app.pages import routes as page_routes
from app.report import routes as report_routes
from app.residents import routes as residents_routes
from app.search import routes as search_routes
from app.security import (
    SecurityHeadersMiddleware,
    TrustedHostsMiddleware,
    bounded_ids,
    refuse_nul_characters,
    verify_csrf,
)
from app.settings import Settings
from app.share import routes as share_routes
from app.vote import routes as vote_routes
from app.web import STATIC_DIR

# The site's pages, in the order their paths are matched. Links are built from their route
# names (app.links), which is why they are listed here rather than only inside create_app.
# The most requested come first: a request tries the routes one by one until one matches (about
# 1.5 us each), and a support was matched after some 80 of the 250 (0.1 ms of its 2.7 ms of CPU;
# issue 14). The order never decides which route answers an address: no two routes take the
# same one (tests/core/test_route_order.py).
ROUTERS: tuple[APIRouter, ...] = (
    call_routes.router,
    vote_routes.router,
    idea_routes.router,
    comment_routes.router,
    page_routes.router,
    account_routes.router,
    account_selfservice_routes.router,
    account_oidc.router,
    admin_routes.router,
    call_admin.router,
    call_translations.router,
    call_api.router,
    council_api.router,
    council_routes.router,
    budget_routes.router,
    budget_routes.api,
    budget_staff_routes.router,
    report_routes.router,
    follow_routes.router,
    notify_routes.router,
    moderation_routes.router,
    moderation_people_routes.router,
    moderation_review_routes.router,
    moderation_admin_routes.router,
    moderation_public_routes.router,
    share_routes.router,
    announce_routes.router,
    announce_admin_routes.router,
    announce_reply_routes.router,
    newsletter_routes.router,
    search_routes.router,
    legal_routes.router,
    identity_routes.router,
    residents_routes.router,
    intake_routes.router,
    intake_routes.public_router,
    maps_routes.router,
    assistant_routes.router,
    assistant_routes.api_router,
    assistant_admin_routes.router,
    observability_routes.router,
)


class Platform(FastAPI):
    """FastAPI with the edge (app.edge) in front of all it runs, its middleware stack included:
    every request's id, access line and latency, and the kept pages answered from memory."""

    edge: Edge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.edge(scope, receive, send)


def create_app(settings: Settings | None = None, *, warm_up: bool = False) -> FastAPI:
    """The platform's ASGI application on `settings` (read from the environment when None).
    `warm_up`: what a long-running server process starts at once rather than at its first
    request needing it (`serve_app`); tests leave it off, as each would start a process."""
    settings = settings or Settings()
    db = Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            # The language detector starts now, beside the first requests, not inside the first
            # comment's write turn (app.media.sandbox.warm_up_detector).
            threading.Thread(target=photo_sandbox.warm_up_detector, name="detector-warm-up", daemon=True).start()
            # Before the first request, not by each of the first requests (about 1 s: app.web).
            web.compile_templates()
        yield
        db.dispose()
        photo_sandbox.shutdown()

    app = Platform(
        title="Réinventons",
        summary="Open data of the participation platform: calls for projects and their ideas.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # /api/docs is a page of the site (app.call.api): Swagger UI needs a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        # Every route loads the visitor (and what is read with it: app.state.request_readers)
        # and checks CSRF on unsafe methods: none can forget.
        # Ids too large for any database integer (404) and NUL characters (422) are refused
        # before anything reads the database.
        dependencies=[Depends(bounded_ids), Depends(refuse_nul_characters), WRITE_TURN,
                      Depends(load_current_user), Depends(verify_csrf)],
        # Request sizes are checked by BodyLimitMiddleware, which answers with the 413 page.
        max_body_size=None,
        # FastAPI's own OpenTelemetry hooks: the platform reports through Prometheus, the JSON
        # logs and Sentry (app.observability). Left on, FastAPI asks OpenTelemetry's global
        # providers on every request whether anyone listens (10 us, an eighth of a page-cache hit).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.db = db
    # What every request reads with its visitor, in load_current_user's one trip to the thread
    # pool (app.account.sessions.RequestReader), in this order: the header's unread count, then
    # the city's identity, both before the CSRF check (whose refusal is a page too).
    app.state.request_readers = (notify_routes.read_unread_count, identity_routes.read_identity)
    errors.configure(settings.sentry_dsn.get_secret_value(), environment=settings.sentry_environment,
                     release=app.version)
    # The only routes without a CSRF token: mailbox providers' one-click unsubscribes, which
    # prove themselves with the signed token in their address (app.security, app.notify.routes,
    # app.newsletter.routes).
    app.state.csrf_exempt = {notify_routes.ONE_CLICK_ROUTE: notify_routes.one_click_proof,
                             newsletter_routes.ONE_CLICK_ROUTE: newsletter_routes.one_click_proof}

    handlers.install(app)

    # Outermost last: hosts are checked first, then headers and language wrap everything, the
    # body limit's page included.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(LocaleMiddleware, default=settings.default_language, secure_cookie=settings.is_https)
    app.add_middleware(SecurityHeadersMiddleware, secure_cookies=settings.is_https, settings=settings)
    # Outside the security headers, so that a kept page keeps them; inside the host check. The
    # edge answers from the same pages first (app.edge says why that is the same answer).
    page_cache = PageCache(generation=db.generation, max_bytes=settings.page_cache_mb * 1024 * 1024,
                           https=settings.is_https, secret_key=settings.resolved_secret_key)
    app.add_middleware(PageCacheMiddleware, cache=page_cache)
    # HEAD goes on as GET from here (app.head): the page cache serves it its kept page.
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(TrustedHostsMiddleware, allowed_hosts=settings.trusted_hosts)
    # The proxy's headers are applied here rather than by uvicorn (`reinventons serve` turns its
    # own off), so that the edge's request id still sees the peer that sent them.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    # In front of everything: the request id is bound before anything logs, the time measured
    # is the whole answer's, and kept pages are answered without the stack.
    app.edge = Edge(super(Platform, app).__call__, cache=page_cache, trusted_proxies=settings.forwarded_allow_ips)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)
    links.bind(ROUTERS)

    return app


def serve_app() -> FastAPI:
    """The application as each server process of `reinventons serve` runs it (uvicorn's
    factory): `create_app` on the environment's settings, warmed up."""
    return create_app(warm_up=True)
