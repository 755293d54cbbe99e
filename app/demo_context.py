"""What every demonstration seeder receives: the demo people, made first by app.demo.

A module of its own so that the domains' seeders (app/*/demo.py) can import it while app.demo
imports them to list them."""

from dataclasses import dataclass, field
from typing import Any

from app.account.models import User
from app.settings import Settings


@dataclass
class DemoContext:
    settings: Settings
    citizen: User
    moderator: User
    admin: User
    # Extra citizens, so that votes and comments come from several people.
    citizens: list[User] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
