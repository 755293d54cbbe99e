"""What a piece of news says, the same for everyone told of it: a notification row each, and an
e-mail each as they chose (app.notify.service.notify_each). The action that makes the news writes
it once; news for many people is kept in the fan-out's outbox payload (`to_payload`) for those
the worker tells later (app.notify.fanout), and read back from it (`from_payload`)."""

from dataclasses import asdict, dataclass
from typing import Any

from app.account.models import User
from app.notify.models import NotificationKind


@dataclass(frozen=True)
class News:
    """`detail` is an English msgid (translated when shown), `note` someone's own words; the
    ids name what the news is about, for the row and for the worker's checks."""

    kind: NotificationKind
    link: str  # a path of the site
    subject: str  # an idea's or call's title
    detail: str = ""
    idea_id: int | None = None
    comment_id: int | None = None
    call_id: int | None = None
    note: str = ""

    def to_payload(self, actor: User | None) -> dict[str, Any]:
        """The news and its actor (by id) as JSON for an outbox message."""
        return {**asdict(self), "kind": self.kind.value, "actor_id": actor.id if actor else None}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "tuple[News, int | None]":
        """The news and its actor's id from `to_payload`'s JSON (ValueError: a kind unknown)."""
        news = cls(kind=NotificationKind(payload["kind"]), link=str(payload["link"]), subject=str(payload["subject"]),
                   detail=str(payload.get("detail") or ""), idea_id=payload.get("idea_id"),
                   comment_id=payload.get("comment_id"), call_id=payload.get("call_id"),
                   note=str(payload.get("note") or ""))
        actor_id = payload.get("actor_id")
        return news, int(actor_id) if actor_id is not None else None
