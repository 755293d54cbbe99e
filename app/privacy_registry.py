"""Every holding of personal data, listed in one place (as app/models.py lists every table).

A domain that starts keeping something about a person adds its holding here. The order is the
order of the sections in a person's export, and the order in which the holdings are erased at
account deletion (each one stands alone: its rows reference the person, not the other holdings'
rows, and foreign keys cascade). The account's own data (the row, its e-mail tokens, its
sessions) is handled by app.account.privacy, which walks this list.
"""

from app.account import identities as account_identities
from app.announce import privacy as announce_privacy
from app.assistant import privacy as assistant_privacy
from app.budget import privacy as budget_privacy
from app.comment import privacy as comment_privacy
from app.follow import privacy as follow_privacy
from app.idea import privacy as idea_privacy
from app.intake import privacy as intake_privacy
from app.media import privacy as media_privacy
from app.moderation import privacy as moderation_privacy
from app.newsletter import privacy as newsletter_privacy
from app.notify import privacy as notify_privacy
from app.personal_data import Holding
from app.report import privacy as report_privacy
from app.residents import privacy as residents_privacy
from app.submission import privacy as submission_privacy
from app.vote import privacy as vote_privacy

HOLDINGS: tuple[Holding, ...] = (
    idea_privacy.IDEAS,
    comment_privacy.COMMENTS,
    vote_privacy.VOTES,
    budget_privacy.BALLOTS,
    follow_privacy.FOLLOWS,
    notify_privacy.NOTIFICATIONS,
    report_privacy.REPORTS,
    announce_privacy.REPLY_REPORTS,
    notify_privacy.PREFERENCES,
    notify_privacy.EMAILS,
    newsletter_privacy.SUBSCRIPTION,
    moderation_privacy.ASSIGNMENTS,
    media_privacy.MEDIA,
    submission_privacy.SUBMISSIONS,
    account_identities.IDENTITIES,
    residents_privacy.VERIFICATION,
    intake_privacy.RESIDENT_INTAKES,
    intake_privacy.ENTERED,
    assistant_privacy.QUESTIONS,
)
