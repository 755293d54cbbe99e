"""Every table of the platform, imported in one place so that SQLModel.metadata is complete
for Alembic and for the drift test. A new domain adds its models module here."""

from sqlmodel import SQLModel

from app import audit as audit_models
from app.account import models as account_models
from app.announce import models as announce_models
from app.assistant import models as assistant_models
from app.budget import models as budget_models
from app.call import models as call_models
from app.comment import models as comment_models
from app.deployment import models as deployment_models
from app.follow import models as follow_models
from app.idea import models as idea_models
from app.identity import models as identity_models
from app.intake import models as intake_models
from app.maps import models as maps_models
from app.media import models as media_models
from app.moderation import models as moderation_models
from app.newsletter import models as newsletter_models
from app.notify import models as notify_models
from app.outbox import models as outbox_models
from app.pages import models as page_models
from app.ratelimit import models as ratelimit_models
from app.report import models as report_models
from app.residents import models as residents_models
from app.submission import models as submission_models
from app.vote import models as vote_models

metadata = SQLModel.metadata

__all__ = [
    "account_models",
    "announce_models",
    "assistant_models",
    "audit_models",
    "budget_models",
    "call_models",
    "comment_models",
    "deployment_models",
    "follow_models",
    "idea_models",
    "identity_models",
    "intake_models",
    "maps_models",
    "media_models",
    "metadata",
    "moderation_models",
    "newsletter_models",
    "notify_models",
    "outbox_models",
    "page_models",
    "ratelimit_models",
    "report_models",
    "residents_models",
    "submission_models",
    "vote_models",
]
