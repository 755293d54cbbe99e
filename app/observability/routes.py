"""The operators' endpoints: `/healthz` (liveness), `/readyz` (readiness) and `/metrics`
(Prometheus, behind a bearer token)."""

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.deps import AppSettings, DbSession
from app.errors import NotFound
from app.observability import health, metrics

router = APIRouter(include_in_schema=False)


@router.get("/healthz", name="site:health")
def liveness() -> JSONResponse:
    """Liveness: the process answers. Nothing else is asked (see app.observability.health)."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


@router.get("/readyz", name="site:ready")
def ready(request: Request, settings: AppSettings) -> JSONResponse:
    """Readiness: 200 {"status": "ready", "checks": {...}} when the database and the storage
    answer, else 503 {"status": "unavailable", ...}; search or Redis "degraded" keeps it ready."""
    outcome = health.readiness(settings, request.app.state.db)
    return JSONResponse({"status": "ready" if outcome.ready else "unavailable", "checks": outcome.checks},
                        status_code=200 if outcome.ready else 503, headers={"Cache-Control": "no-store"})


@router.get("/metrics", name="site:metrics")
def prometheus(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """The metrics for Prometheus, for a scraper sending `Authorization: Bearer <METRICS_TOKEN>`.
    404 while no token is configured (the endpoint does not exist), 401 with a wrong or missing
    one (compared in constant time)."""
    token = settings.metrics_token.get_secret_value()
    if not token:
        raise NotFound()
    sent = request.headers.get("authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return Response("Unauthorized\n", status_code=401, media_type="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(metrics.exposition(session), media_type=metrics.CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})
