"""The form fields moderators fill, bounded a little above what the services accept so that
an over-long text gets the service's own message in the reader's language, not FastAPI's."""

from typing import Annotated

from fastapi import Form

from app.moderation import common, idea_decisions

Text = Annotated[str, Form(max_length=common.MAX_REASON + 100)]
LongText = Annotated[str, Form(max_length=idea_decisions.MAX_ANSWER + 100)]
Short = Annotated[str, Form(max_length=100)]
