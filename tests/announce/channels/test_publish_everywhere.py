"""A moderator publishes a call's results once; the worker delivers them to every configured
channel, real servers where they run here: the Bluesky reference PDS (and, below, Mastodon).
Each network shows the post once, with the image and its alt text, however often the worker
runs or the announcement is queued again."""

from typing import Any

from sqlmodel import Session, select

from app.announce import delivery
from app.announce.models import Delivery, DeliveryStatus
from app.settings import Settings
from tests.announce.helpers import add_channel
from tests.announce.test_delivery import _publish
from tests.factories import make_call
from tests.support import WebClient
from tests.support_pds import Pds

ALT = "Le parc de la Boverie au printemps"


def _bluesky(session: Session, settings: Settings, pds: Pds) -> None:
    add_channel(session, settings, "bluesky", "Bluesky de la Ville",
                config={"service": pds.url, "handle": pds.city.handle, "language": "fr"},
                secrets={"app_password": pds.city.app_password})


def _posts_about(pds: Pds, text: str) -> list[dict[str, Any]]:
    return [r for r in pds.list_records(pds.city.did) if text in str(r["value"]["text"])]  # type: ignore[index]


def test_results_reach_bluesky_once_with_the_image_and_its_alt_text(
        client: WebClient, session: Session, settings: Settings, bluesky_pds: Pds) -> None:
    _bluesky(session, settings, bluesky_pds)
    call = make_call(session, phase="results", slug="boverie", title="Parc de la Boverie")
    unique = f"Résultats de la Boverie {call.id}"
    announcement = _publish(session, settings, call, image=True, texts={"fr": unique, "nl": "Resultaten"})
    client.run_worker()
    client.run_worker()
    delivery.queue(session, announcement)  # queued again (a replay): nothing more
    session.commit()
    client.run_worker()
    [record] = _posts_about(bluesky_pds, unique)
    value = record["value"]
    assert value["text"] == f"{unique}\n\n{announcement.link}"
    assert value["langs"] == ["fr"]
    [image] = value["embed"]["images"]
    assert image["alt"] == ALT
    blob = bluesky_pds.get_blob(bluesky_pds.city.did, image["image"]["ref"]["$link"])
    assert blob[:3] in (b"\xff\xd8\xff", b"\x89PN", b"RIF")
    [row] = session.exec(select(Delivery)).all()
    assert row.status == DeliveryStatus.sent and row.remote_id == record["uri"]
