"""The versions of an idea's wording: what people supported never changes silently.

Once an idea has left its draft (moderators or the public may have read it), each edit of its
title, text, theme or district is kept as an IdeaVersion with the wording before and after,
its editor and the idea's status at that moment. Edits of drafts are not kept (nobody else saw
them), nor edits that change none of those four fields (a photo's description, a resubmission
as it was). An edit of a published idea belongs to its public history (app.idea.history); the
others are shown to moderators only.

The differences are computed here with difflib, lines first and then words within the lines
that changed, as a list of `Segment`s: the templates print each one escaped, inside `<del>` or
`<ins>` (templates/idea/_diff.html), so that no user text ever becomes markup.
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cached_property
from typing import Literal, NamedTuple

from sqlmodel import Session, col, select

from app.account.models import User
from app.call.models import Category, District
from app.i18n import N_
from app.idea.models import Idea, IdeaStatus, IdeaVersion

# The fields a version compares, in the order they are listed, with what each is called.
FIELD_LABELS = {
    "title": N_("title"),
    "body": N_("description"),
    "category": N_("theme"),
    "district": N_("district"),
}
# Edits made in these statuses are part of the public history: the public saw the wording.
PUBLIC_STATUSES = frozenset({IdeaStatus.published})
# Past this many words on either side of a changed block, the block is shown as removed and
# added whole: SequenceMatcher is quadratic in the worst case, and a page must stay quick.
WORD_DIFF_LIMIT = 3000

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Wording:
    """What an idea says: the fields a version keeps."""

    title: str
    body_md: str
    body_html: str
    category_id: int | None
    district_id: int | None

    @classmethod
    def of(cls, idea: Idea) -> "Wording":
        """The idea's wording as it is now (take it before an edit changes the idea)."""
        return cls(idea.title, idea.body_md, idea.body_html, idea.category_id, idea.district_id)


def changed_fields(before: Wording, after: Wording) -> list[str]:
    """The keys of FIELD_LABELS whose value differs, in FIELD_LABELS' order (the body compares
    its Markdown source: the HTML follows from it)."""
    changes = {
        "title": before.title != after.title,
        "body": before.body_md != after.body_md,
        "category": before.category_id != after.category_id,
        "district": before.district_id != after.district_id,
    }
    return [name for name in FIELD_LABELS if changes[name]]


def record_edit(session: Session, idea: Idea, before: Wording, editor: User | None, *,
                by_moderation: bool = False) -> IdeaVersion | None:
    """Keep one edit of `idea` (already changed in the session; `before` taken from it first)
    as a version by `editor`. Returns None, keeping nothing, for a draft or when none of the
    versioned fields changed. Flushes, so the version has its id."""
    assert idea.id is not None
    after = Wording.of(idea)
    if idea.status == IdeaStatus.draft or not changed_fields(before, after):
        return None
    version = IdeaVersion(
        idea_id=idea.id, editor_id=editor.id if editor is not None else None, by_moderation=by_moderation,
        status=idea.status,
        title_before=before.title, title_after=after.title,
        body_md_before=before.body_md, body_md_after=after.body_md,
        body_html_before=before.body_html, body_html_after=after.body_html,
        category_before_id=before.category_id, category_after_id=after.category_id,
        district_before_id=before.district_id, district_after_id=after.district_id,
    )
    session.add(version)
    session.flush()
    return version


def is_public(version: IdeaVersion) -> bool:
    """Whether the edit belongs to the idea's public history (it changed a published idea)."""
    return version.status in PUBLIC_STATUSES


def versions_of(session: Session, idea_id: int, *, public_only: bool = False) -> list[IdeaVersion]:
    """The versions of idea `idea_id`, oldest first; only those of its public history when
    `public_only`."""
    query = select(IdeaVersion).where(IdeaVersion.idea_id == idea_id)
    if public_only:
        query = query.where(col(IdeaVersion.status).in_([str(s) for s in PUBLIC_STATUSES]))
    return list(session.exec(query.order_by(col(IdeaVersion.created_at), col(IdeaVersion.id))))


# --- Differences ---------------------------------------------------------------------------

class Segment(NamedTuple):
    """A run of text in a difference: kept ("same"), removed ("del") or added ("ins")."""

    kind: Literal["same", "del", "ins"]
    text: str


def _append(segments: list[Segment], kind: Literal["same", "del", "ins"], text: str) -> None:
    if not text:
        return
    if segments and segments[-1].kind == kind:
        segments[-1] = Segment(kind, segments[-1].text + text)
    else:
        segments.append(Segment(kind, text))


def _ordered(segments: list[Segment]) -> list[Segment]:
    """Within each run of changes, what was removed before what was added (merged by kind),
    so a replaced passage reads as "old, then new" rather than as interleaved scraps."""
    result: list[Segment] = []
    removed: list[str] = []
    added: list[str] = []
    for segment in [*segments, Segment("same", "")]:
        if segment.kind == "del":
            removed.append(segment.text)
        elif segment.kind == "ins":
            added.append(segment.text)
        else:
            _append(result, "del", "".join(removed))
            _append(result, "ins", "".join(added))
            removed, added = [], []
            _append(result, "same", segment.text)
    return result


def diff_words(before: str, after: str) -> list[Segment]:
    """A word-level difference between two texts: words, spaces and punctuation are the units.
    A stretch of spaces between two changes joins them, so that "Planting trees" replaced by
    "A car park" reads as one removal and one addition."""
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    if len(a) > WORD_DIFF_LIMIT or len(b) > WORD_DIFF_LIMIT:
        return _ordered([Segment("del", before), Segment("ins", after)])
    segments: list[Segment] = []
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        between_changes = 0 < index < len(opcodes) - 1
        if tag == "equal" and not (between_changes and old.isspace()):
            _append(segments, "same", old)
            continue
        _append(segments, "del", old)
        _append(segments, "ins", new)
    return _ordered(segments)


def diff_text(before: str, after: str) -> list[Segment]:
    """A difference between two multi-line texts (an idea's Markdown): lines first, then words
    within the lines that were replaced. Joining the segments' "same" and "del" texts gives
    `before` back; "same" and "ins", `after`."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "equal":
            _append(segments, "same", old)
        elif tag == "replace":
            for segment in diff_words(old, new):
                _append(segments, segment.kind, segment.text)
        else:
            _append(segments, "del", old)
            _append(segments, "ins", new)
    return _ordered(segments)


# --- Versions as pages show them -------------------------------------------------------------

@dataclass
class VersionView:
    """A version with what a page shows of it: the editor's current name (None for a deleted
    account), the names of the themes and districts before and after (None: no theme, the
    whole city), and the differences, computed when first read."""

    version: IdeaVersion
    editor_name: str | None
    category_before: str | None
    category_after: str | None
    district_before: str | None
    district_after: str | None

    @property
    def fields(self) -> list[str]:
        """The keys of FIELD_LABELS this edit changed."""
        v = self.version
        return changed_fields(
            Wording(v.title_before, v.body_md_before, "", v.category_before_id, v.district_before_id),
            Wording(v.title_after, v.body_md_after, "", v.category_after_id, v.district_after_id))

    @property
    def field_labels(self) -> list[str]:
        """What this edit changed, as English msgids (translated where shown)."""
        return [FIELD_LABELS[name] for name in self.fields]

    @property
    def label(self) -> str:
        """Who changed the wording, as the history says it (an English msgid)."""
        if self.version.by_moderation:
            return N_("Edited by the moderation team")
        return N_("Edited by the author")

    @property
    def public(self) -> bool:
        return is_public(self.version)

    @cached_property
    def title_diff(self) -> list[Segment]:
        return diff_words(self.version.title_before, self.version.title_after)

    @cached_property
    def body_diff(self) -> list[Segment]:
        return diff_text(self.version.body_md_before, self.version.body_md_after)


def version_views(session: Session, idea_id: int, *, public_only: bool = False) -> list[VersionView]:
    """The versions of idea `idea_id` ready to show, oldest first (see `versions_of`), in
    three queries whatever their number."""
    query = (select(IdeaVersion, User.display_name).outerjoin(User, col(User.id) == IdeaVersion.editor_id)
             .where(IdeaVersion.idea_id == idea_id))
    if public_only:
        query = query.where(col(IdeaVersion.status).in_([str(s) for s in PUBLIC_STATUSES]))
    rows = session.exec(query.order_by(col(IdeaVersion.created_at), col(IdeaVersion.id))).all()
    if not rows:
        return []
    category_ids = {i for v, _name in rows for i in (v.category_before_id, v.category_after_id) if i is not None}
    district_ids = {i for v, _name in rows for i in (v.district_before_id, v.district_after_id) if i is not None}
    categories = dict(session.exec(select(Category.id, Category.name)
                                   .where(col(Category.id).in_(category_ids))).all()) if category_ids else {}
    districts = dict(session.exec(select(District.id, District.name)
                                  .where(col(District.id).in_(district_ids))).all()) if district_ids else {}
    return [VersionView(
        version=v, editor_name=name,
        category_before=categories.get(v.category_before_id), category_after=categories.get(v.category_after_id),
        district_before=districts.get(v.district_before_id), district_after=districts.get(v.district_after_id),
    ) for v, name in rows]
