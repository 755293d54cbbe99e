"""What search engines are told: robots.txt and the sitemap of public pages (sitemaps.org
protocol 0.9: at most 50,000 addresses per file, so the ideas are split into files of
IDEAS_PER_FILE by id, listed in a sitemap index). Only what an anonymous visitor may see is
listed: public calls, public ideas of public calls (not merged ones, whose page leads
elsewhere), the announcements and the legal pages."""

from xml.sax.saxutils import escape

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from app import links
from app.call.models import Call
from app.call.phases import is_public
from app.idea.models import Idea, IdeaStatus
from app.idea.queries import public_condition
from app.pages.legal import KINDS
from app.settings import Settings

IDEAS_PER_FILE = 10_000
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Where crawlers have nothing to index: personal and staff pages, and search results (endless).
PRIVATE_ROUTES = ("account:profile", "moderation:queue", "admin:index", "search:results")


def robots_txt(settings: Settings) -> str:
    """robots.txt: everything public may be crawled but personal, staff and search pages; the
    sitemap's absolute address."""
    lines = ["User-agent: *"]
    lines += [f"Disallow: {links.path(name)}" for name in PRIVATE_ROUTES]
    lines.append(f"Sitemap: {settings.absolute_url(links.path('page:sitemap'))}")
    return "\n".join(lines) + "\n"


def _public_call_ids(session: Session) -> list[int]:
    return [c.id for c in session.exec(select(Call).order_by(col(Call.id))).all() if is_public(c) and c.id]


def _ideas_condition(session: Session) -> ColumnElement[bool]:
    return (public_condition() & (col(Idea.status) != IdeaStatus.merged)
            & col(Idea.call_id).in_(_public_call_ids(session)))


def idea_file_count(session: Session) -> int:
    """How many idea files the index lists: enough to cover the highest public idea id."""
    highest = session.exec(select(func.max(Idea.id)).where(_ideas_condition(session))).one()
    return 0 if highest is None else int(highest) // IDEAS_PER_FILE + 1


def index_xml(session: Session, settings: Settings) -> str:
    """The sitemap index: the pages file, then one file per IDEAS_PER_FILE idea ids."""
    files = [links.path("page:sitemap_pages")]
    files += [links.path("page:sitemap_ideas", number=n) for n in range(1, idea_file_count(session) + 1)]
    entries = "".join(f"<sitemap><loc>{escape(settings.absolute_url(f))}</loc></sitemap>" for f in files)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NAMESPACE}">{entries}</sitemapindex>\n'


def _urlset(settings: Settings, entries: list[tuple[str, str | None]]) -> str:
    body = "".join(f"<url><loc>{escape(settings.absolute_url(path))}</loc>"
                   + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"
                   for path, lastmod in entries)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">{body}</urlset>\n'


def pages_xml(session: Session, settings: Settings) -> str:
    """The home page, the public calls, the announcements and the legal pages."""
    entries: list[tuple[str, str | None]] = [(links.path("page:home"), None)]
    for call in session.exec(select(Call).order_by(col(Call.id))).all():
        if is_public(call):
            entries.append((links.path("call:detail", slug=call.slug), call.updated_at.date().isoformat()))
    entries.append((links.path("announce:list"), None))
    entries += [(links.path(route), None) for _title, route in KINDS.values()]
    return _urlset(settings, entries)


def ideas_xml(session: Session, settings: Settings, number: int) -> str | None:
    """Idea file `number` (from 1): the public ideas with ids in ((number-1)*N, number*N],
    each with its last change; None past the last file."""
    if number < 1 or number > idea_file_count(session):
        return None
    low, high = (number - 1) * IDEAS_PER_FILE, number * IDEAS_PER_FILE
    rows = session.exec(select(Idea.id, Idea.updated_at)
                        .where(_ideas_condition(session), col(Idea.id) > low, col(Idea.id) <= high)
                        .order_by(col(Idea.id))).all()
    return _urlset(settings, [(links.idea_path(idea_id), updated.date().isoformat())
                              for idea_id, updated in rows if idea_id is not None])
