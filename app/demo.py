"""Demonstration data for `reinventons demo`: filled once, into an empty database.

Each domain contributes a seeder; they run in order inside one transaction and receive the
accounts created first, so later seeders can make ideas, votes and comments by real people.
"""

from collections.abc import Callable

from sqlmodel import Session, select

from app import links
from app.account import service as account_service
from app.account.models import Role, User
from app.announce.demo import seed_announcements
from app.assistant.demo import seed_assistant
from app.budget.demo import seed_budget
from app.db import Database
from app.demo_context import DemoContext
from app.idea.demo import seed_calls_and_ideas
from app.identity.demo import seed_identity
from app.main import ROUTERS
from app.maps.demo import seed_maps
from app.moderation.demo import seed_moderation
from app.newsletter.demo import seed_subscribers
from app.search import indexing as search_indexing
from app.settings import Settings
from app.vote.demo import seed_votes_and_comments

DEMO_ACCOUNTS = (
    ("citoyenne@demo.reinventons.be", "Camille Lejeune", Role.citizen, "demo-citoyenne-2026"),
    ("moderation@demo.reinventons.be", "Équipe modération", Role.moderator, "demo-moderation-2026"),
    ("admin@demo.reinventons.be", "Administration Ville", Role.admin, "demo-administration-2026"),
)
DEMO_NEIGHBOURS = (
    "Luc Dardenne", "Amina El Idrissi", "Jean-Pierre Collard", "Sofia Ricci", "Marc Delvaux",
    "Nathalie Hendrickx", "Youssef Benali", "Hélène Thiry", "Piotr Nowak", "Chloé Lambert",
)
NEIGHBOUR_PASSWORD = "demo-voisin-2026"  # noqa: S105 - published demo credentials

Seeder = Callable[[Session, DemoContext], None]


def seeders() -> list[Seeder]:
    """The domains' seeders, in dependency order. A domain adds its own here."""
    return [seed_identity, seed_calls_and_ideas, seed_votes_and_comments, seed_budget, seed_moderation,
            seed_subscribers, seed_announcements, seed_maps, seed_assistant]


def is_empty(session: Session) -> bool:
    return session.exec(select(User).limit(1)).first() is None


def seed(db: Database, settings: Settings) -> bool:
    """Fill the demonstration into an empty database. Returns False if it was not empty."""
    # The seeders write notifications that link to pages, before any application is created.
    links.bind(ROUTERS)
    with db.transaction() as session:
        if not is_empty(session):
            return False
        people = [
            account_service.create_user(session, email=email, display_name=name, password=password,
                                        role=role, verified=True)
            for email, name, role, password in DEMO_ACCOUNTS
        ]
        neighbours = [
            account_service.create_user(
                session, email=f"voisin{i + 1}@demo.reinventons.be", display_name=name,
                password=NEIGHBOUR_PASSWORD, verified=True)
            for i, name in enumerate(DEMO_NEIGHBOURS)
        ]
        context = DemoContext(settings=settings, citizen=people[0], moderator=people[1], admin=people[2],
                              citizens=[people[0], *neighbours])
        for seeder in seeders():
            seeder(session, context)
        # Seeders write ideas directly; the search index is built once from what they wrote.
        search_indexing.rebuild(session, settings)
    return True
