"""The form side of "a form sent twice acts once" (app.submission.service): the hidden field
a route declares, and the answer to a repeat."""

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse

from app.submission.models import FormSubmission
from app.web import flash, redirect

FormToken = Annotated[str, Form(max_length=100)]
"""The one-time token of a create form: templates write it with `forms.once()`
(templates/_macros/forms.html); routes declare `form_token: FormToken = ""`."""


def replay(request: Request, earlier: FormSubmission) -> RedirectResponse:
    """Answer a repeated submission as the first one was answered: the same redirect (303) and
    the same message, so the person sees what they would have seen had they tapped once."""
    response = redirect(earlier.location or "/")
    if earlier.message:
        flash(request, response, earlier.message, earlier.category, **(earlier.params or {}))
    return response
