"""Pages that belong to no single domain: the home page and the offline page."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.web import render

router = APIRouter(include_in_schema=False)


@router.get("/", name="home")
def home(request: Request) -> HTMLResponse:
    return render(request, "pages/home.html")


@router.get("/offline", name="offline")
def offline(request: Request) -> HTMLResponse:
    return render(request, "pages/offline.html")
