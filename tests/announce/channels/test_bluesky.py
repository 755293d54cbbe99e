"""The Bluesky channel against the Bluesky reference PDS (@atproto/pds, started by the
`bluesky_pds` fixture): what a third party reads back from the account's repository.

The statuses the PDS cannot be made to answer (500, 429, 401 on a call after login) come from
`FakeXrpcServer`, a fake: a few lines of http.server answering XRPC calls as told."""

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any

import httpx
import pytest
import regex
from PIL import Image as PILImage

from app.announce.channels import bluesky
from app.announce.channels.base import (
    AuthFailed,
    Image,
    OutgoingPost,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from app.announce.channels.bluesky import BlueskyChannel, record_key, validate_config
from app.announce.channels.compose import post_text
from app.db import Database
from app.settings import Settings
from tests.support import free_port
from tests.support_pds import Pds

LINK = "https://reinventons.example/calls/parc-d-avroy"
TID = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


@pytest.fixture
def channel(bluesky_pds: Pds, settings: Settings, db: Database) -> BlueskyChannel:
    """The city's channel as the delivery queue builds it from a stored account."""
    return bluesky.build({"service": bluesky_pds.url, "handle": bluesky_pds.city.handle, "language": "fr"},
                         {"app_password": bluesky_pds.city.app_password}, settings=settings, db=db)


def key() -> str:
    return f"delivery-{uuid.uuid4().hex}"


def png(width: int = 64, height: int = 48) -> bytes:
    out = BytesIO()
    PILImage.new("RGB", (width, height), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def untyped(value: Any) -> Any:
    """`value` without the `$type` keys the atproto client writes in every object."""
    return {k: v for k, v in value.items() if k != "$type"}


def rkey_of(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def test_a_post_with_a_link_arrives_once_with_its_facet_at_the_right_bytes_its_language_and_a_link_card(
        channel: BlueskyChannel, bluesky_pds: Pds) -> None:
    text = post_text("Réunion d'été 🌻 au parc d'Avroy : venez nombreux !", LINK)
    before = len(bluesky_pds.list_records(bluesky_pds.city.did))

    ref = channel.post(OutgoingPost(text=text, language="fr", link=LINK, title="Le parc d'Avroy"), key=key())

    records = bluesky_pds.list_records(bluesky_pds.city.did)
    assert len(records) == before + 1
    record = bluesky_pds.get_record(ref.id)
    assert record is not None and record["cid"] == ref.extra["cid"]
    value: Any = record["value"]
    assert value["text"] == text
    assert value["langs"] == ["fr"]
    [facet] = value["facets"]
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": LINK}]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert start == len(text[:text.index(LINK)].encode()) > text.index(LINK)  # é and 🌻 are several bytes
    assert text.encode()[start:end].decode() == LINK
    assert value["embed"]["$type"] == "app.bsky.embed.external"
    assert value["embed"]["external"] == {"$type": "app.bsky.embed.external#external", "uri": LINK,
                                          "title": "Le parc d'Avroy", "description": ""}
    assert ref.url == f"https://bsky.app/profile/{bluesky_pds.city.did}/post/{rkey_of(ref.id)}"


def test_a_post_with_an_image_carries_the_blob_and_its_alt_text(channel: BlueskyChannel, bluesky_pds: Pds) -> None:
    data = png()
    post = OutgoingPost(text=post_text("Les plans du parc", LINK), language="fr", link=LINK,
                        image=Image(data, "image/png", "Plan du parc : une allée d'arbres et deux pelouses"))

    ref = channel.post(post, key=key())

    value: Any = bluesky_pds.get_record(ref.id)["value"]  # type: ignore[index]
    [image] = value["embed"]["images"]
    assert value["embed"]["$type"] == "app.bsky.embed.images"
    assert image["alt"] == "Plan du parc : une allée d'arbres et deux pelouses"
    assert untyped(image["aspectRatio"]) == {"width": 64, "height": 48}
    assert image["image"]["mimeType"] == "image/png" and image["image"]["size"] == len(data)
    assert bluesky_pds.get_blob(bluesky_pds.city.did, image["image"]["ref"]["$link"]) == data


def test_the_same_key_twice_leaves_one_post_which_find_returns(channel: BlueskyChannel, bluesky_pds: Pds) -> None:
    post = OutgoingPost(text="Une seule fois", language="fr")
    delivery = key()
    assert channel.find(post, key=delivery) is None

    first = channel.post(post, key=delivery)
    before = len(bluesky_pds.list_records(bluesky_pds.city.did))
    second = channel.post(post, key=delivery)  # a retry that did not call find first

    assert second == first
    assert len(bluesky_pds.list_records(bluesky_pds.city.did)) == before
    assert channel.find(post, key=delivery) == first
    assert rkey_of(first.id) == record_key(delivery)
    assert channel.find(post, key=key()) is None


def test_record_keys_are_valid_tids_derived_from_the_key_alone() -> None:
    keys = [f"delivery-{n}" for n in range(2000)]
    rkeys = [record_key(k) for k in keys]
    assert all(TID.match(r) for r in rkeys)
    assert len(set(rkeys)) == len(keys)
    assert record_key("delivery-7") == rkeys[7]
    assert record_key("é" * 64) != record_key("e" * 64)


def test_delete_removes_the_post_and_deleting_again_succeeds(channel: BlueskyChannel, bluesky_pds: Pds) -> None:
    post = OutgoingPost(text="Bientôt retiré", language="fr")
    delivery = key()
    ref = channel.post(post, key=delivery)

    channel.delete(ref)
    channel.delete(ref)

    assert bluesky_pds.get_record(ref.id) is None
    assert channel.find(post, key=delivery) is None


def test_deleting_a_post_of_another_account_is_refused(channel: BlueskyChannel, bluesky_pds: Pds) -> None:
    with pytest.raises(Rejected):
        channel.delete(RemoteRef(id=f"at://{bluesky_pds.other.did}/app.bsky.feed.post/{record_key('x')}"))


def test_a_reply_names_its_parent_and_the_root_of_the_thread(channel: BlueskyChannel, bluesky_pds: Pds) -> None:
    announcement = channel.post(OutgoingPost(text="Le vote est ouvert", language="fr"), key=key())
    citizen = bluesky_pds.other
    answer = httpx.post(f"{bluesky_pds.url}/xrpc/com.atproto.repo.createRecord",
                        headers={"Authorization": f"Bearer {citizen.access_jwt}"}, timeout=10, json={
                            "repo": citizen.did, "collection": "app.bsky.feed.post", "record": {
                                "$type": "app.bsky.feed.post", "text": "Jusqu'à quand ?",
                                "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                                "reply": {"root": {"uri": announcement.id, "cid": announcement.extra["cid"]},
                                          "parent": {"uri": announcement.id, "cid": announcement.extra["cid"]}}}})
    answer.raise_for_status()
    citizen_post = answer.json()

    # The moderator answers the citizen: the queue knows the reply's address only.
    ref = channel.post(OutgoingPost(text="Jusqu'au 15 juin.", language="fr",
                                    in_reply_to=RemoteRef(id=citizen_post["uri"])), key=key())

    reply: Any = bluesky_pds.get_record(ref.id)["value"]["reply"]  # type: ignore[index]
    assert untyped(reply["parent"]) == {"uri": citizen_post["uri"], "cid": citizen_post["cid"]}
    assert untyped(reply["root"]) == {"uri": announcement.id, "cid": announcement.extra["cid"]}

    # A reply to a post that starts a thread: the post is both.
    direct = channel.post(OutgoingPost(text="Précision : en ligne aussi.", language="fr",
                                       in_reply_to=announcement), key=key())
    reply = bluesky_pds.get_record(direct.id)["value"]["reply"]  # type: ignore[index]
    assert untyped(reply["parent"]) == untyped(reply["root"]) == {"uri": announcement.id,
                                                                  "cid": announcement.extra["cid"]}


def test_a_reply_to_a_post_that_does_not_exist_is_rejected(channel: BlueskyChannel, bluesky_pds: Pds) -> None:
    missing = RemoteRef(id=f"at://{bluesky_pds.city.did}/app.bsky.feed.post/{record_key(key())}")
    with pytest.raises(Rejected):
        channel.post(OutgoingPost(text="Réponse", language="fr", in_reply_to=missing), key=key())


def test_a_text_over_300_graphemes_is_refused_not_cut(channel: BlueskyChannel, bluesky_pds: Pds) -> None:
    before = len(bluesky_pds.list_records(bluesky_pds.city.did))
    with pytest.raises(Rejected, match="301 graphemes"):
        channel.post(OutgoingPost(text="a" * 301, language="fr"), key=key())
    assert len(bluesky_pds.list_records(bluesky_pds.city.did)) == before

    # 300 graphemes of 18 bytes each (a family): within the graphemes, over the lexicon's bytes.
    with pytest.raises(Rejected, match="5400 bytes"):
        channel.post(OutgoingPost(text="\U0001f468\u200d\U0001f469\u200d\U0001f467" * 300, language="fr"),
                     key=key())

    # 300 graphemes of 2 code points each (e + combining acute): the PDS counts as we do.
    text = "e\u0301" * 300
    ref = channel.post(OutgoingPost(text=text, language="fr"), key=key())
    assert bluesky_pds.get_record(ref.id)["value"]["text"] == text  # type: ignore[index]


def test_check_returns_the_handle_and_a_wrong_password_is_auth_failed(
        channel: BlueskyChannel, bluesky_pds: Pds, settings: Settings, db: Database) -> None:
    assert channel.check() == "city.test"

    wrong = bluesky.build({"service": bluesky_pds.url, "handle": "city.test", "language": "fr"},
                          {"app_password": "aaaa-bbbb-cccc-dddd"}, settings=settings, db=db)
    with pytest.raises(AuthFailed) as failed:
        wrong.check()
    assert "aaaa-bbbb-cccc-dddd" not in str(failed.value)
    with pytest.raises(AuthFailed):
        wrong.post(OutgoingPost(text="Non", language="fr"), key=key())
    assert "aaaa-bbbb-cccc-dddd" not in repr(wrong)


def test_a_revoked_app_password_is_found_by_check(bluesky_pds: Pds) -> None:
    account = bluesky_pds.create_account(f"revoked{uuid.uuid4().hex[:6]}")
    channel = BlueskyChannel(service=bluesky_pds.url, handle=account.handle, app_password=account.app_password)
    assert channel.post(OutgoingPost(text="Avant", language="fr"), key=key())

    httpx.post(f"{bluesky_pds.url}/xrpc/com.atproto.server.revokeAppPassword", json={"name": "reinventons"},
               headers={"Authorization": f"Bearer {account.access_jwt}"}, timeout=10).raise_for_status()

    # The session's token stays valid until it expires (the PDS does not revoke issued tokens);
    # the administrators' check logs in again, and then nothing more is posted with it.
    with pytest.raises(AuthFailed):
        channel.check()
    with pytest.raises(AuthFailed):
        channel.post(OutgoingPost(text="Après", language="fr"), key=key())


def test_replies_need_a_thread_service(channel: BlueskyChannel, bluesky_pds: Pds) -> None:
    ref = channel.post(OutgoingPost(text="Des questions ?", language="fr"), key=key())
    assert channel.collects_replies is False
    assert channel.replies(ref, since=None) == []
    assert BlueskyChannel(service=bluesky_pds.url, handle="city.test", app_password="x",
                          thread_service="https://public.api.bsky.app").collects_replies is True


# -- a fake XRPC server, for the answers the PDS cannot be made to give --------------------

def fake_jwt() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{part({'alg': 'HS256'})}.{part({'sub': 'did:plc:fake', 'exp': int(time.time()) + 3600})}.c2ln"


class FakeXrpcServer:
    """A fake XRPC server (not Bluesky): the NSIDs in `answers` get their body; createSession
    succeeds unless told otherwise; every other call answers `status` with `headers`. Counts the
    sessions opened. Also stands for an AppView (app.bsky.feed.getPostThread), which cannot run
    here: it needs the Bluesky network's whole backend."""

    def __init__(self) -> None:
        self.status = 200
        self.login_status = 200
        self.headers: dict[str, str] = {}
        self.answers: dict[str, Any] = {}  # NSID -> a JSON body answered with 200
        self.asked: list[str] = []  # the paths asked, with their query
        self.sessions = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                fake.asked.append(self.path)
                nsid = self.path.split("?", 1)[0].removeprefix("/xrpc/")
                if nsid in fake.answers:
                    body, status, headers = fake.answers[nsid], 200, {}
                elif self.path.startswith("/xrpc/com.atproto.server.createSession") and fake.login_status == 200:
                    fake.sessions += 1
                    body = {"did": "did:plc:fake", "handle": "city.example", "accessJwt": fake_jwt(),
                            "refreshJwt": fake_jwt()}
                    status, headers = 200, {}
                else:
                    status = fake.login_status if "createSession" in self.path else fake.status
                    headers = fake.headers
                    body = {"error": "Fake", "message": f"fake answer {status}"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def channel(self) -> BlueskyChannel:
        return BlueskyChannel(service=self.url, handle="city.example", app_password=f"pw-{uuid.uuid4().hex}")


@pytest.fixture
def fake() -> Iterator[FakeXrpcServer]:
    server = FakeXrpcServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_transient(fake: FakeXrpcServer, status: int) -> None:
    fake.status = status
    with pytest.raises(Transient, match=str(status)):
        fake.channel().post(OutgoingPost(text="Bonjour", language="fr"), key=key())


def test_429_waits_until_the_ratelimit_reset_header(fake: FakeXrpcServer) -> None:
    reset = int(time.time()) + 600
    fake.status, fake.headers = 429, {"ratelimit-reset": str(reset), "ratelimit-remaining": "0"}
    with pytest.raises(RateLimited) as limited:
        fake.channel().post(OutgoingPost(text="Bonjour", language="fr"), key=key())
    assert limited.value.reset_at == datetime.fromtimestamp(reset, tz=UTC)


def test_429_without_a_reset_header_still_waits(fake: FakeXrpcServer) -> None:
    fake.status = 429
    with pytest.raises(RateLimited) as limited:
        fake.channel().find(OutgoingPost(text="Bonjour", language="fr"), key=key())
    assert limited.value.reset_at > datetime.now(UTC)


def test_401_after_login_even_with_a_new_session_is_auth_failed(fake: FakeXrpcServer) -> None:
    fake.status = 401
    with pytest.raises(AuthFailed):
        fake.channel().find(OutgoingPost(text="Bonjour", language="fr"), key=key())
    assert fake.sessions == 2  # logged in again once, then gave up


def test_other_4xx_are_rejected(fake: FakeXrpcServer) -> None:
    for status in (400, 403, 404, 413):
        fake.status = status
        with pytest.raises(Rejected):
            fake.channel().post(OutgoingPost(text="Bonjour", language="fr"), key=key())


def test_a_login_refused_with_429_is_rate_limited(fake: FakeXrpcServer) -> None:
    fake.login_status, fake.headers = 429, {"ratelimit-reset": str(int(time.time()) + 60)}
    with pytest.raises(RateLimited):
        fake.channel().check()


def test_no_answer_is_transient() -> None:
    channel = BlueskyChannel(service=f"http://127.0.0.1:{free_port()}", handle="city.example", app_password="x")
    with pytest.raises(Transient):
        channel.check()


def test_the_session_is_opened_once_for_every_channel_of_one_account(fake: FakeXrpcServer) -> None:
    fake.status = 400
    first = fake.channel()
    second = BlueskyChannel(service=fake.url, handle="city.example", app_password=first._password)
    for channel in (first, second, first):
        with pytest.raises(Rejected):
            channel.find(OutgoingPost(text="Bonjour", language="fr"), key=key())
    assert fake.sessions == 1


# -- configuration ---------------------------------------------------------------------------

GOOD = {"service": "https://bsky.social", "handle": "liege.bsky.social", "language": "fr"}


def test_a_good_configuration_passes() -> None:
    assert validate_config(GOOD, {"app_password": "abcd-efgh-ijkl-mnop"}) == {}
    assert validate_config({**GOOD, "thread_service": "https://public.api.bsky.app",
                            "handle": "did:plc:abcdefghijklmnopqrstuvwx"}, {"app_password": "x"}) == {}
    assert validate_config({**GOOD, "service": "http://127.0.0.1:2583"}, {"app_password": "x"}) == {}


@pytest.mark.parametrize(("change", "field"), [
    ({"service": "bsky.social"}, "service"),
    ({"service": "ftp://bsky.social"}, "service"),
    ({"service": "http://bsky.social"}, "service"),
    ({"service": "https://user:pw@bsky.social"}, "service"),
    ({"service": "https://bsky.social/?a=1"}, "service"),
    ({"service": ""}, "service"),
    ({"handle": "@liege.bsky.social"}, "handle"),
    ({"handle": "liege"}, "handle"),
    ({"handle": "liège.bsky.social"}, "handle"),
    ({"language": "es"}, "language"),
    ({"thread_service": "javascript:alert(1)"}, "thread_service"),
])
def test_bad_configurations_are_refused_field_by_field(change: dict[str, str], field: str) -> None:
    errors = validate_config({**GOOD, **change}, {"app_password": "abcd-efgh-ijkl-mnop"})
    assert list(errors) == [field]


def test_a_missing_app_password_is_refused() -> None:
    assert list(validate_config(GOOD, {"app_password": " "})) == ["app_password"]


# -- replies, from a thread service (an AppView; here a fake) --------------------------------

CITIZEN_DID = "did:plc:citizenaaaaaaaaaaaaaaaaa"


def at(did: str, name: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{record_key(name)}"


def thread_view(uri: str, cid: str, text: str, created: str, parent: str | None = None,
                root: str | None = None, replies: list[Any] | None = None) -> dict[str, Any]:
    """app.bsky.feed.defs#threadViewPost as an AppView answers it."""
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": created}
    if parent:
        record["reply"] = {"root": {"uri": root or parent, "cid": cid}, "parent": {"uri": parent, "cid": cid}}
    author = {"did": uri.split("/")[2], "handle": "citizen.bsky.social" if CITIZEN_DID in uri else "city.test"}
    return {"$type": "app.bsky.feed.defs#threadViewPost", "replies": replies or [],
            "post": {"uri": uri, "cid": cid, "author": author, "record": record, "indexedAt": created}}


@pytest.fixture
def threaded(bluesky_pds: Pds, fake: FakeXrpcServer) -> BlueskyChannel:
    """The city's channel with the fake as its thread service."""
    return BlueskyChannel(service=bluesky_pds.url, handle=bluesky_pds.city.handle,
                          app_password=bluesky_pds.city.app_password, language="fr", thread_service=fake.url)


def test_replies_come_from_the_thread_service_nested_ones_too_oldest_first(
        threaded: BlueskyChannel, fake: FakeXrpcServer) -> None:
    assert threaded.collects_replies is True
    ref = threaded.post(OutgoingPost(text="Des questions ?", language="fr"), key=key())
    cid = ref.extra["cid"]
    first, second, answer = at(CITIZEN_DID, "r1"), at(CITIZEN_DID, "r2"), at(CITIZEN_DID, "r3")
    fake.answers["app.bsky.feed.getPostThread"] = {"thread": thread_view(
        ref.id, cid, "Des questions ?", "2026-06-01T09:00:00.000Z", replies=[
            thread_view(first, cid, "Où ?", "2026-06-01T10:00:00.000Z", parent=ref.id, replies=[
                thread_view(answer, cid, "Au parc, à l'entrée 🌳", "2026-06-01T10:30:00.000Z",
                            parent=first, root=ref.id)]),
            thread_view(second, cid, "Quand ?", "2026-06-01T10:10:00.000Z", parent=ref.id),
            {"$type": "app.bsky.feed.defs#notFoundPost", "uri": at(CITIZEN_DID, "gone"), "notFound": True},
            {"$type": "app.bsky.feed.defs#blockedPost", "uri": at(CITIZEN_DID, "blocked"), "blocked": True,
             "author": {"did": CITIZEN_DID}},
        ])}

    replies = threaded.replies(ref, since=None)

    assert [(r.remote_id, r.parent_id, r.text) for r in replies] == [
        (first, ref.id, "Où ?"), (second, ref.id, "Quand ?"), (answer, first, "Au parc, à l'entrée 🌳")]
    assert replies[0].author_handle == "citizen.bsky.social"
    assert replies[0].author_url == "https://bsky.app/profile/citizen.bsky.social"
    assert replies[0].url == f"https://bsky.app/profile/citizen.bsky.social/post/{record_key('r1')}"
    assert replies[0].created_at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert [r.remote_id for r in threaded.replies(ref, since=first)] == [second, answer]
    assert threaded.replies(ref, since=answer) == []
    assert any("getPostThread" in path and "depth=" in path for path in fake.asked)


def test_a_reply_to_a_citizen_on_another_server_reads_the_parent_from_the_thread_service(
        threaded: BlueskyChannel, fake: FakeXrpcServer, bluesky_pds: Pds) -> None:
    announcement = threaded.post(OutgoingPost(text="Le vote est ouvert", language="fr"), key=key())
    cid = announcement.extra["cid"]
    question = at(CITIZEN_DID, "question")
    fake.answers["com.atproto.repo.getRecord"] = {"uri": question, "cid": cid, "value": {
        "$type": "app.bsky.feed.post", "text": "Jusqu'à quand ?", "createdAt": "2026-06-01T10:00:00.000Z",
        "reply": {"root": {"uri": announcement.id, "cid": cid}, "parent": {"uri": announcement.id, "cid": cid}}}}

    ref = threaded.post(OutgoingPost(text="Jusqu'au 15 juin.", language="fr",
                                     in_reply_to=RemoteRef(id=question)), key=key())

    reply: Any = bluesky_pds.get_record(ref.id)["value"]["reply"]  # type: ignore[index]
    assert untyped(reply["parent"]) == {"uri": question, "cid": cid}
    assert untyped(reply["root"]) == {"uri": announcement.id, "cid": cid}


def test_a_thread_service_that_fails_is_transient(threaded: BlueskyChannel, fake: FakeXrpcServer) -> None:
    fake.status = 503
    with pytest.raises(Transient):
        threaded.replies(RemoteRef(id=at(CITIZEN_DID, "x")), since=None)
