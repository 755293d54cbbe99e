"""The kinds of channel an administrator can configure, the fields of each, and how a stored
channel account becomes a `Channel` the delivery queue can use.

Each kind is a module of this package with `build(config, secrets, *, settings, db)` and,
when its configuration can be wrong, `validate_config(config, secrets) -> {field: msgid}`.
Modules are imported by name from the fixed table below when a channel of that kind is used,
so that a city that never configures Bluesky never imports its client.
"""

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from app.announce.channels.base import Channel
from app.db import Database
from app.i18n import N_
from app.settings import Settings


@dataclass(frozen=True)
class FieldSpec:
    """One field of a channel's form: `name` its key in config or secrets, `label` and `help`
    English msgids, `secret` True for a token or password (stored sealed, never shown back),
    `input` an HTML input type or "language"/"visibility" for the select lists."""

    name: str
    label: str
    secret: bool = False
    input: str = "text"
    required: bool = True
    help: str = ""


LANGUAGE = FieldSpec("language", N_("Language of the posts"), input="language")


@dataclass(frozen=True)
class Kind:
    """A kind of channel: `key` (its module's name), `name` (a brand, shown as is), its fields."""

    key: str
    name: str
    fields: tuple[FieldSpec, ...]
    description: str = ""

    def module(self) -> ModuleType:
        """The module that implements this kind (imported on first use)."""
        return importlib.import_module(f"app.announce.channels.{self.key}")


KINDS: dict[str, Kind] = {kind.key: kind for kind in (
    Kind("mastodon", "Mastodon", (
        FieldSpec("instance_url", N_("Server address"), input="url", help=N_("For example https://mastodon.social")),
        FieldSpec("visibility", N_("Visibility of the posts"), input="visibility"),
        LANGUAGE,
        FieldSpec("access_token", N_("Access token"), secret=True,
                  help=N_("From the account's Preferences → Development, with the write:statuses, write:media and "
                          "read:statuses scopes.")),
    )),
    Kind("bluesky", "Bluesky", (
        FieldSpec("service", N_("Server address (PDS)"), input="url", help=N_("For example https://bsky.social")),
        FieldSpec("handle", N_("Handle"), help=N_("For example liege.bsky.social")),
        LANGUAGE,
        FieldSpec("thread_service", N_("Address of a service that serves threads (to collect replies)"),
                  input="url", required=False),
        FieldSpec("app_password", N_("App password"), secret=True,
                  help=N_("Settings → Privacy and security → App passwords; never the account's own password.")),
    )),
    Kind("facebook", "Facebook", (
        FieldSpec("page_id", N_("Page id")),
        LANGUAGE,
        FieldSpec("graph_url", N_("Graph API address"), input="url", required=False,
                  help=N_("Leave empty for https://graph.facebook.com/v21.0")),
        FieldSpec("page_access_token", N_("Page access token"), secret=True),
    )),
    Kind("x", "X", (
        LANGUAGE,
        FieldSpec("api_url", N_("API address"), input="url", required=False,
                  help=N_("Leave empty for https://api.x.com")),
        FieldSpec("client_id", N_("Client id of the city's X app (OAuth 2.0)"), required=False),
        FieldSpec("access_token", N_("User access token (OAuth 2.0, tweet.write)"), secret=True),
        FieldSpec("refresh_token", N_("Refresh token (scope offline.access)"), secret=True, required=False,
                  help=N_("X access tokens last two hours: with a refresh token the channel renews its own.")),
        FieldSpec("client_secret", N_("Client secret (confidential apps only)"), secret=True, required=False),
    )),
    Kind("newsletter", N_("Newsletter"), (), N_("An e-mail to every confirmed subscriber, in their language.")),
    Kind("webhook", N_("Webhook"), (
        FieldSpec("url", N_("Address that receives the events"), input="url"),
        FieldSpec("secret", N_("Signing secret"), secret=True, required=False,
                  help=N_("Leave empty to have one generated (whsec_…), then copy it into the receiving system.")),
    ), N_("Signed events (Standard Webhooks) for other city systems.")),
)}


def kind_of(key: str) -> Kind:
    """The kind named `key`. Raises KeyError for an unknown one."""
    return KINDS[key]


def validate(kind: Kind, config: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    """Field errors ({field: msgid}) of a channel's configuration: required fields, then the
    kind's own checks. Empty when it may be saved."""
    errors: dict[str, str] = {}
    for spec in kind.fields:
        value = (secrets if spec.secret else config).get(spec.name, "")
        if spec.required and not str(value).strip():
            errors[spec.name] = N_("This field is required.")
    if errors:
        return errors
    check = getattr(kind.module(), "validate_config", None)
    return dict(check(config, secrets)) if check else {}


def build(kind: Kind, config: dict[str, Any], secrets: dict[str, str], *, settings: Settings,
          db: Database) -> Channel:
    """The `Channel` of a stored account, ready to post."""
    channel: Channel = kind.module().build(config, secrets, settings=settings, db=db)
    return channel
