"""The Mastodon channel against a real Mastodon API server (mastodon-mock on loopback, see
`mastodon_server.py`): what arrives on the server, what a third party reads there, and what
the delivery queue reads from each failure the server can produce."""

import io
import json
import logging
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonInternalServerError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonUnauthorizedError,
)
from PIL import Image as PILImage

from app.announce.channels.base import (
    AuthFailed,
    DeliveryError,
    Image,
    OutgoingPost,
    RateLimited,
    Rejected,
    RemoteRef,
    Transient,
)
from app.announce.channels.mastodon import (
    RATE_LIMIT_FALLBACK,
    MastodonChannel,
    build,
    delivery_error,
    validate_config,
)
from app.announce.channels.status_html import html_to_text
from app.clock import utcnow
from tests.announce.channels.mastodon_server import CITIZEN, OBSERVER, MastodonServer
from tests.support import free_port

STATUSES = "/api/v1/statuses"
ROOT = Path(__file__).resolve().parents[3]


def png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (4, 3), (200, 30, 90)).save(out, format="PNG")
    return out.getvalue()


def announcement(text: str = "L’appel « Places vertes » est ouvert.", **fields: object) -> OutgoingPost:
    fields.setdefault("language", "fr")
    return OutgoingPost(text=text, **fields)  # type: ignore[arg-type]


def assert_no_token(error: BaseException, server: MastodonServer) -> None:
    assert server.city_token not in str(error)
    assert server.city_token not in repr(error)


# --- posting


def test_a_post_with_an_image_arrives_once_with_its_alt_text_visibility_and_language(
        mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel(visibility="unlisted", language="fr")
    picture = png()
    post = OutgoingPost(text="Nieuwe oproep: groene pleinen.\n\nhttps://ville.example/a/1",
                        language="nl", link="https://ville.example/a/1",
                        image=Image(data=picture, mime="image/png", alt="Een plein met bomen"))

    ref = channel.post(post, key="delivery-1-mastodon")

    statuses = mastodon_server.statuses()
    assert len(statuses) == 1
    status = statuses[0]
    assert (ref.id, ref.url) == (status["id"], status["url"])
    assert ref.url.startswith("https://")
    assert status["visibility"] == "unlisted"
    assert status["language"] == "nl"
    assert "Nieuwe oproep: groene pleinen." in status["content"]
    assert "https://ville.example/a/1" in status["content"]
    [attachment] = status["media_attachments"]
    assert attachment["type"] == "image"
    assert attachment["description"] == "Een plein met bomen"
    assert mastodon_server.media(attachment["url"]) == picture


def test_a_post_waits_for_an_image_the_server_processes_in_the_background(
        mastodon_server: MastodonServer) -> None:
    picture = png()
    uploaded = mastodon_server.upload(picture, "image/png", "Un plan du parc")
    # As Mastodon does while it processes a file: the upload answers 202 without a url, the
    # attachment's page 206 (still processing) once, then the attachment with its url.
    processing = {"id": uploaded["id"], "type": "image", "url": None, "preview_url": None,
                  "description": "Un plan du parc"}
    mastodon_server.fault(path="/api/v2/media", status=202, body=processing)
    mastodon_server.fault(path=f"/api/v1/media/{uploaded['id']}", methods=["GET"], status=206,
                          body=processing)

    ref = mastodon_server.channel().post(
        announcement(image=Image(data=picture, mime="image/png", alt="Un plan du parc")), key="k-202")

    assert mastodon_server.faults() == []  # both answered: the channel asked until ready
    [status] = mastodon_server.statuses()
    assert status["id"] == ref.id
    assert [a["id"] for a in status["media_attachments"]] == [uploaded["id"]]


def test_an_image_still_processing_after_the_wait_is_transient(mastodon_server: MastodonServer) -> None:
    processing = {"id": "4242", "type": "image", "url": None, "description": "Un plan"}
    mastodon_server.fault(path="/api/v2/media", status=202, body=processing)
    # Mastodon answers 206 (Partial Content) for an attachment still being processed.
    mastodon_server.fault(path="/api/v1/media/4242", methods=["GET"], status=206, body=processing,
                          count=None)

    with pytest.raises(Transient, match="still processing"):
        mastodon_server.channel(media_wait=0.5).post(
            announcement(image=Image(data=png(), mime="image/png", alt="Un plan")), key="k-slow-media")

    assert mastodon_server.statuses() == []


def test_a_post_without_language_takes_the_channels(mastodon_server: MastodonServer) -> None:
    mastodon_server.channel(language="de").post(announcement(language=""), key="k-lang")

    [status] = mastodon_server.statuses()
    assert status["language"] == "de"
    assert status["visibility"] == "public"
    assert status["media_attachments"] == []


def test_the_same_key_twice_gives_one_status(mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel()

    first = channel.post(announcement(), key="delivery-7")
    again = channel.post(announcement(), key="delivery-7")

    assert again == first
    assert [s["id"] for s in mastodon_server.statuses()] == [first.id]
    other = channel.post(announcement(), key="delivery-8")
    assert other.id != first.id
    assert len(mastodon_server.statuses()) == 2


def test_a_reply_posted_with_in_reply_to_appears_under_that_reply(
        mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel()
    original = channel.post(announcement(), key="k-original")
    question = mastodon_server.reply(original.id, "Et pour le quartier nord ?")

    answer = channel.post(announcement("Oui, aussi le quartier nord.",
                                       in_reply_to=RemoteRef(id=question["id"])), key="k-answer")

    [under_question] = mastodon_server.descendants(question["id"])
    assert under_question["id"] == answer.id
    assert under_question["in_reply_to_id"] == question["id"]
    assert under_question["account"]["acct"] == "ville"


# --- failures, as the delivery queue reads them


def test_500_is_transient_and_the_retry_with_the_same_key_posts_once(
        mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel()
    mastodon_server.fail_next(STATUSES, [500, 500, 500])

    for _ in range(3):
        with pytest.raises(Transient, match="500") as caught:
            channel.post(announcement(), key="delivery-3")
        assert_no_token(caught.value, mastodon_server)
    assert mastodon_server.statuses() == []
    ref = channel.post(announcement(), key="delivery-3")

    assert [s["id"] for s in mastodon_server.statuses()] == [ref.id]
    assert mastodon_server.faults() == []


def test_503_on_the_image_upload_is_transient(mastodon_server: MastodonServer) -> None:
    mastodon_server.fault(path="/api/v2/media", status=503)
    post = announcement(image=Image(data=png(), mime="image/png", alt="Un plan"))

    with pytest.raises(Transient):
        mastodon_server.channel().post(post, key="k-media")

    assert mastodon_server.statuses() == []


def test_429_is_rate_limited_until_the_servers_reset_time(mastodon_server: MastodonServer) -> None:
    reset = (utcnow() + timedelta(minutes=7)).replace(microsecond=0)
    mastodon_server.fault(path=STATUSES, type="ratelimit",
                          headers={"X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")})

    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        mastodon_server.channel().post(announcement(), key="k-429")
    took = timedelta(seconds=time.monotonic() - started)

    assert caught.value.reset_at.tzinfo is not None
    assert caught.value.reset_at.utcoffset() == timedelta(0)
    # Mastodon.py moves the reset to the local clock by how far the answer's Date header is
    # behind it: whole seconds, and uvicorn refreshes its Date about once a second (later
    # on a busy machine), so by a few seconds at most (never earlier: Date is never ahead).
    slack = timedelta(milliseconds=50)
    assert reset - slack <= caught.value.reset_at <= reset + timedelta(seconds=3) + took
    assert mastodon_server.statuses() == []


def test_429_without_a_usable_reset_waits_a_minute(mastodon_server: MastodonServer) -> None:
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    mastodon_server.fault(path=STATUSES, type="ratelimit", headers={"X-RateLimit-Reset": past})
    before = utcnow()

    with pytest.raises(RateLimited) as caught:
        mastodon_server.channel().post(announcement(), key="k-429b")

    assert before + RATE_LIMIT_FALLBACK <= caught.value.reset_at <= utcnow() + RATE_LIMIT_FALLBACK


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_auth_failures(mastodon_server: MastodonServer, status: int) -> None:
    mastodon_server.fault(path=STATUSES, status=status, body={"error": "The access token is invalid"})

    with pytest.raises(AuthFailed, match=str(status)) as caught:
        mastodon_server.channel().post(announcement(), key="k-auth")

    assert_no_token(caught.value, mastodon_server)


def test_422_is_rejected_with_the_servers_explanation(mastodon_server: MastodonServer) -> None:
    mastodon_server.fault(path=STATUSES, status=422,
                          body={"error": "Validation failed: Text character limit of 500 exceeded"})

    with pytest.raises(Rejected, match="character limit of 500"):
        mastodon_server.channel().post(announcement(), key="k-422")


def test_an_answer_slower_than_the_timeout_is_transient(mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel(timeout=1.0)
    mastodon_server.fault(path=STATUSES, type="latency", delay_ms=2500)

    with pytest.raises(Transient, match="too slow"):
        channel.post(announcement(), key="k-slow")
    ref = channel.post(announcement(), key="k-slow")

    assert [s["id"] for s in mastodon_server.statuses()] == [ref.id]


def test_latency_within_the_timeout_is_fine(mastodon_server: MastodonServer) -> None:
    mastodon_server.fault(path=STATUSES, type="latency", delay_ms=300)

    ref = mastodon_server.channel(timeout=2.0).post(announcement(), key="k-latency")

    assert [s["id"] for s in mastodon_server.statuses()] == [ref.id]


def test_a_malformed_answer_is_transient(mastodon_server: MastodonServer) -> None:
    mastodon_server.fault(path=STATUSES, type="malformed")

    with pytest.raises(Transient, match="could not be read"):
        mastodon_server.channel().post(announcement(), key="k-malformed")


def test_an_answer_that_is_json_but_not_a_status_is_transient(mastodon_server: MastodonServer) -> None:
    mastodon_server.fault(path=STATUSES, status=200, body={"unexpected": True})

    with pytest.raises(Transient, match="lacks 'id'"):
        mastodon_server.channel().post(announcement(), key="k-odd")


def test_a_server_that_does_not_listen_is_transient(mastodon_server: MastodonServer) -> None:
    channel = MastodonChannel(instance_url=f"http://127.0.0.1:{free_port()}",
                              access_token=mastodon_server.city_token, timeout=1.0)

    with pytest.raises(Transient, match="unreachable"):
        channel.post(announcement(), key="k-down")


POST_FROM_ANOTHER_PROCESS = """
import json, sys
from app.announce.channels.base import OutgoingPost
from app.announce.channels.mastodon import build
config, secrets, key = json.loads(sys.argv[1])
channel = build(config, secrets, settings=None, db=None)
print(channel.post(OutgoingPost(text="Depuis un autre processus", language="fr"), key=key).id)
"""


def test_a_worker_process_killed_while_posting_and_its_successor_post_once(
        mastodon_server: MastodonServer) -> None:
    args = [sys.executable, "-c", POST_FROM_ANOTHER_PROCESS,
            json.dumps([mastodon_server.config(), mastodon_server.secrets(), "delivery-42"])]
    mastodon_server.fault(path=STATUSES, type="latency", delay_ms=3000)
    killed = subprocess.Popen(args, stdout=subprocess.PIPE, cwd=ROOT)
    deadline = time.monotonic() + 20
    while mastodon_server.faults() and time.monotonic() < deadline:  # its request has arrived
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)

    successor = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)

    assert [s["id"] for s in mastodon_server.statuses()] == [successor.stdout.strip()]


# --- delete


def test_delete_removes_the_status_and_deleting_again_succeeds(mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel()
    ref = channel.post(announcement(), key="k-delete")
    kept = channel.post(announcement("Une autre annonce."), key="k-kept")
    assert mastodon_server.status(ref.id) is not None

    channel.delete(ref)

    assert mastodon_server.status(ref.id) is None
    assert [s["id"] for s in mastodon_server.statuses()] == [kept.id]
    channel.delete(ref)


def test_delete_on_a_500_is_transient_and_keeps_the_status(mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel()
    ref = channel.post(announcement(), key="k-delete-500")
    mastodon_server.fail_next(f"{STATUSES}/{ref.id}", [500], methods=["DELETE"])

    with pytest.raises(Transient):
        channel.delete(ref)

    assert mastodon_server.status(ref.id) is not None


# --- replies


def test_replies_come_back_once_each_oldest_first_as_plain_text(mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel()
    ref = channel.post(announcement(), key="k-thread")
    first = mastodon_server.reply(ref.id, "Bonne idée !\n\nEt les arbres <b>fruitiers</b> ?\nMerci")
    nested = mastodon_server.reply(first["id"], "D’accord & merci.",
                                   token=mastodon_server.observer_token)
    mastodon_server.reply(ref.id, "Rien que pour la ville.", visibility="direct")
    channel.post(announcement("Merci, nous regardons.", in_reply_to=RemoteRef(id=first["id"])),
                 key="k-city-answer")

    replies = channel.replies(ref, since=None)

    assert [r.remote_id for r in replies] == [first["id"], nested["id"]]
    one, two = replies
    assert one.text == "Bonne idée !\n\nEt les arbres <b>fruitiers</b> ?\nMerci"
    assert one.parent_id == ref.id
    assert one.author_handle == f"@{CITIZEN}@social.example"
    assert one.author_url == first["account"]["url"]
    assert one.url == first["url"]
    assert one.created_at.utcoffset() == timedelta(0)
    assert abs(one.created_at - utcnow()) < timedelta(minutes=1)
    assert two.text == "D’accord & merci."
    assert two.parent_id == first["id"]
    assert two.author_handle == f"@{OBSERVER}@social.example"
    assert one.created_at <= two.created_at


def test_replies_since_returns_only_newer_ones(mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel()
    ref = channel.post(announcement(), key="k-since")
    first = mastodon_server.reply(ref.id, "Première")
    second = mastodon_server.reply(first["id"], "Deuxième")
    third = mastodon_server.reply(ref.id, "Troisième")

    assert [r.remote_id for r in channel.replies(ref, since=first["id"])] == [second["id"], third["id"]]
    assert channel.replies(ref, since=third["id"]) == []
    assert [r.text for r in channel.replies(ref, since=None)] == ["Première", "Deuxième", "Troisième"]


def test_replies_of_a_post_with_none(mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel()
    ref = channel.post(announcement(), key="k-quiet")

    assert channel.replies(ref, since=None) == []


def test_replies_on_a_429_are_rate_limited(mastodon_server: MastodonServer) -> None:
    channel = mastodon_server.channel()
    ref = channel.post(announcement(), key="k-replies-429")
    mastodon_server.fault(path=f"{STATUSES}/{ref.id}/context", type="ratelimit")

    with pytest.raises(RateLimited):
        channel.replies(ref, since=None)


# --- check


def test_check_returns_the_accounts_handle(mastodon_server: MastodonServer) -> None:
    assert mastodon_server.channel().check() == "@ville"


def test_check_with_a_bad_token_is_an_auth_failure_that_does_not_show_it(
        mastodon_server: MastodonServer, caplog: pytest.LogCaptureFixture) -> None:
    token = "revoked-token-9b1e2f"
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AuthFailed, match="401") as caught:
        mastodon_server.channel(token=token).check()

    assert token not in str(caught.value)
    assert token not in repr(caught.value)
    assert token not in caplog.text
    assert token not in repr(mastodon_server.channel(token=token))


# --- build and validate_config


def test_build_gives_a_channel_on_the_configured_server(mastodon_server: MastodonServer) -> None:
    channel = build(mastodon_server.config(visibility="unlisted"), mastodon_server.secrets(),
                    settings=None, db=None)  # type: ignore[arg-type]

    assert (channel.kind, channel.idempotent, channel.collects_replies) == ("mastodon", True, True)
    ref = channel.post(announcement(), key="k-build")
    [status] = mastodon_server.statuses()
    assert (status["id"], status["visibility"]) == (ref.id, "unlisted")


def test_build_refuses_invalid_settings_without_showing_the_token() -> None:
    with pytest.raises(AuthFailed, match="instance_url") as caught:
        build({"instance_url": "http://mastodon.example", "visibility": "public", "language": "fr"},
              {"access_token": "secret-token-77"}, settings=None, db=None)  # type: ignore[arg-type]

    assert "secret-token-77" not in str(caught.value)


def test_a_token_that_names_a_file_is_sent_as_it_is(mastodon_server: MastodonServer) -> None:
    # Mastodon.py's constructor reads a token from the file its value names: not here.
    with pytest.raises(AuthFailed):
        mastodon_server.channel(token=__file__).check()


VALID = {"instance_url": "https://mastodon.example", "visibility": "public", "language": "fr"}
TOKEN = {"access_token": "abcDEF123_-"}


@pytest.mark.parametrize("config", [
    VALID,
    {**VALID, "instance_url": "https://mastodon.example/"},
    {**VALID, "instance_url": "https://social.example.org:8443"},
    {**VALID, "instance_url": "http://127.0.0.1:3000", "visibility": "unlisted", "language": "nl"},
    {**VALID, "instance_url": "http://localhost:3000"},
])
def test_validate_config_accepts(config: dict[str, str]) -> None:
    assert validate_config(config, TOKEN) == {}


@pytest.mark.parametrize(("config", "secrets", "field", "message"), [
    ({**VALID, "instance_url": ""}, TOKEN, "instance_url", "Enter the address of the Mastodon server."),
    ({**VALID, "instance_url": "http://mastodon.example"}, TOKEN, "instance_url",
     "The address must start with https://."),
    ({**VALID, "instance_url": "mastodon.example"}, TOKEN, "instance_url",
     "Enter an address like https://mastodon.example."),
    ({**VALID, "instance_url": "ftp://mastodon.example"}, TOKEN, "instance_url",
     "Enter an address like https://mastodon.example."),
    ({**VALID, "instance_url": "https://mastodon.example:port"}, TOKEN, "instance_url",
     "Enter an address like https://mastodon.example."),
    ({**VALID, "instance_url": "https://mastodon.example/@ville"}, TOKEN, "instance_url",
     "Enter only the server’s address, like https://mastodon.example."),
    ({**VALID, "instance_url": "https://user:pw@mastodon.example"}, TOKEN, "instance_url",
     "Enter only the server’s address, like https://mastodon.example."),
    ({**VALID, "visibility": "direct"}, TOKEN, "visibility", "Choose public or unlisted."),
    ({**VALID, "visibility": "private"}, TOKEN, "visibility", "Choose public or unlisted."),
    ({**VALID, "language": "es"}, TOKEN, "language", "Choose one of the site’s languages."),
    (VALID, {}, "access_token", "Enter the access token."),
    (VALID, {"access_token": "  "}, "access_token", "Enter the access token."),
    (VALID, {"access_token": "abc def"}, "access_token",
     "An access token is one word of letters, digits and signs."),
    (VALID, {"access_token": "jeton-é"}, "access_token",
     "An access token is one word of letters, digits and signs."),
])
def test_validate_config_rejects(config: dict[str, str], secrets: dict[str, str], field: str,
                                 message: str) -> None:
    assert validate_config(config, secrets) == {field: message}


def test_validate_config_messages_are_translated() -> None:
    from app.i18n import catalogue

    messages = set(validate_config({"instance_url": "http://x.example"}, {}).values())
    messages |= {"Enter the address of the Mastodon server.", "Enter an address like https://mastodon.example.",
                 "Enter only the server’s address, like https://mastodon.example.",
                 "An access token is one word of letters, digits and signs."}
    for language in ("fr", "nl", "de"):
        assert messages <= set(catalogue(language)), language


# --- the error mapping, per case (the errors as Mastodon.py raises them)


def http_error(cls: type[MastodonAPIError], status: int, message: str = "") -> MastodonAPIError:
    return cls("Mastodon API returned error", status, "Reason", message or None)


NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("error", "expected", "text"), [
    (MastodonNetworkError("Could not complete request: Read timed out."), Transient, "too slow"),
    (MastodonAPIError("Could not parse response as JSON, response code was 200", "Exception"),
     Transient, "could not be read"),
    (http_error(MastodonInternalServerError, 500), Transient, "500"),
    (http_error(MastodonAPIError, 502), Transient, "502"),
    (http_error(MastodonAPIError, 408), Transient, "408"),
    (http_error(MastodonUnauthorizedError, 401, "The access token is invalid"), AuthFailed, "401"),
    (http_error(MastodonAPIError, 403, "This action is outside the authorized scopes"), AuthFailed,
     "authorized scopes"),
    (http_error(MastodonAPIError, 422, "Validation failed"), Rejected, "422: Validation failed"),
    (http_error(MastodonNotFoundError, 404, "Record not found"), Rejected, "404"),
    (http_error(MastodonAPIError, 410), Rejected, "410"),
    (MastodonIllegalArgumentError("Invalid visibility value!"), Rejected, "visibility"),
    (MastodonError("something else"), Transient, "MastodonError"),
])
def test_delivery_error_maps_each_case(error: MastodonError, expected: type[DeliveryError],
                                       text: str) -> None:
    mapped = delivery_error(error, ratelimit_reset=None, now=NOW)

    assert type(mapped) is expected
    assert text in str(mapped)


@pytest.mark.parametrize("error", [MastodonRatelimitError("Hit rate limit."),
                                   http_error(MastodonAPIError, 429)])
def test_delivery_error_rate_limit_until_the_reset(error: MastodonError) -> None:
    reset = NOW + timedelta(minutes=4)

    mapped = delivery_error(error, ratelimit_reset=reset.timestamp(), now=NOW)
    fallback = delivery_error(error, ratelimit_reset=None, now=NOW)
    stale = delivery_error(error, ratelimit_reset=(NOW - timedelta(seconds=5)).timestamp(), now=NOW)

    assert isinstance(mapped, RateLimited) and mapped.reset_at == reset
    assert mapped.reset_at.tzinfo is UTC
    assert isinstance(fallback, RateLimited) and fallback.reset_at == NOW + RATE_LIMIT_FALLBACK
    assert isinstance(stale, RateLimited) and stale.reset_at == NOW + RATE_LIMIT_FALLBACK


@pytest.mark.parametrize(("html", "text"), [
    ("<p>Un</p><p>Deux<br />trois</p>", "Un\n\nDeux\ntrois"),
    ("<p>&lt;b&gt; &amp; &quot;x&quot;</p>", "<b> & \"x\""),
    ('<p><span class="h-card"><a href="https://social.example/@ville" class="u-url mention">'
     "@<span>ville</span></a></span> voir "
     '<a href="https://ville.example/appels/places-vertes"><span class="invisible">https://</span>'
     '<span class="ellipsis">ville.example/appels/pla</span><span class="invisible">ces-vertes</span></a></p>',
     "@ville voir https://ville.example/appels/places-vertes"),
    ("", ""),
])
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text
