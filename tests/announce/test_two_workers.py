"""Two workers running at the same moment never carry out one delivery twice: the outbox
claims each message for one of them (FOR UPDATE SKIP LOCKED on PostgreSQL, the write lock on
SQLite). Against the FAKE Graph API (tests/announce/fake_networks.py), whose answers are
slowed down so that both workers are busy together."""

import threading

from sqlmodel import Session, select

from app.announce.models import Delivery, DeliveryStatus
from app.outbox import service as outbox
from app.outbox import worker
from app.settings import Settings
from tests.announce.fake_networks import graph_api
from tests.announce.helpers import add_channel
from tests.announce.test_delivery import _publish
from tests.factories import make_call
from tests.support import WebClient


def test_two_workers_at_once_post_each_announcement_once(client: WebClient, session: Session,
                                                         settings: Settings) -> None:
    with graph_api() as graph:
        add_channel(session, settings, "facebook", "Page", secrets={"page_access_token": graph.token},
                    config={"page_id": "1234567890", "language": "fr", "graph_url": graph.url})
        call = make_call(session, phase="results")
        for n in range(6):
            _publish(session, settings, call, event="free", texts={"fr": f"Nouvelle {n}"})
        graph.delay = 0.2
        table = worker.handlers(settings, client.db)
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                start.wait()
                while outbox.run_pending(client.db, table, limit=1):
                    pass
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        messages = sorted(p["message"] for p in graph.posts)
        assert messages == sorted(f"Nouvelle {n}\n\n{settings.absolute_url(f'/calls/{call.slug}')}"
                                  for n in range(6))
        session.expire_all()
        rows = session.exec(select(Delivery)).all()
        assert [r.status for r in rows] == [DeliveryStatus.sent] * 6 and all(r.attempts == 1 for r in rows)
