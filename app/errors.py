"""The application's errors. Services raise these; handlers turn them into pages or JSON.

Services never raise HTTPException: an AppError says what went wrong in domain terms and
carries the status code it maps to, so routes stay thin and services stay reusable.
"""

from typing import Any

from app.i18n import N_


class AppError(Exception):
    status_code = 400
    default_message = N_("This request could not be processed.")
    retry_after: int | None = None  # seconds, for a Retry-After header (RFC 9110, 10.2.3)

    def __init__(self, message: str | None = None, **context: Any) -> None:
        # `message` is an English msgid; the handler translates it for the reader.
        self.message = message or self.default_message
        self.context = context
        super().__init__(self.message)


class NotFound(AppError):
    status_code = 404
    default_message = N_("Page not found")


class Forbidden(AppError):
    status_code = 403
    default_message = N_("You are not allowed to do this.")


class LoginRequired(AppError):
    """Raised for anonymous visitors where a login would help; answered with a redirect."""

    status_code = 401
    default_message = N_("Please log in to continue.")


class Conflict(AppError):
    status_code = 409
    default_message = N_("This conflicts with the current state.")


class InvalidTransition(Conflict):
    default_message = N_("This action is not possible in the current state.")


class ValidationFailed(AppError):
    """Bad input. `errors` maps a form field name to a message, shown next to the field."""

    status_code = 422
    default_message = N_("Please correct the errors below.")

    def __init__(self, errors: dict[str, str], message: str | None = None) -> None:
        self.errors = errors
        super().__init__(message)


class RateLimited(AppError):
    status_code = 429
    default_message = N_("Too many attempts. Please wait a moment and try again.")

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class Busy(AppError):
    """The request's transaction lost a race with another and nothing of it was written
    (app.contention): send it again in `retry_after` seconds."""

    status_code = 503
    default_message = N_("The platform was too busy to record this, and nothing was saved. "
                         "Please try again in a moment.")
    retry_after = 1
