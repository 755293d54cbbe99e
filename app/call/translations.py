"""Translations of a call, its themes and the districts (app.contentlang), for the staff editor.

A call's editor shows, for one target language, every translatable field of the call, of its
themes and of the districts, each original next to its translation. Form fields are named
`<kind>.<id>.<field>` (`call.3.title`, `category.12.name`, `district.4.name`).
"""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app import audit, contentlang
from app.account.models import User
from app.call import service
from app.call.models import Call
from app.errors import ValidationFailed
from app.i18n import N_
from app.settings import LANGUAGES


@dataclass
class Item:
    """One translatable object: its kind (`call`, `category`, `district`), the object, and
    field -> language -> contentlang.FieldStatus."""

    kind: str
    obj: Any
    fields: dict[str, dict[str, contentlang.FieldStatus]] = field(default_factory=dict)

    def key(self, name: str) -> str:
        return f"{self.kind}.{self.obj.id}.{name}"

    def missing(self) -> dict[str, list[str]]:
        """field -> languages without a translation."""
        return {name: [lang for lang, st in langs.items() if st.missing]
                for name, langs in self.fields.items() if any(st.missing for st in langs.values())}

    def out_of_date(self) -> dict[str, list[str]]:
        """field -> languages whose translation is older than the original."""
        return {name: [lang for lang, st in langs.items() if st.out_of_date]
                for name, langs in self.fields.items() if any(st.out_of_date for st in langs.values())}


def items(session: Session, call: Call) -> list[Item]:
    """The call, its themes in display order, then every district, each with its translation
    status. Three queries whatever the number of themes and districts."""
    objects: list[tuple[str, Any]] = [("call", call)]
    objects += [("category", c) for c in service.categories_of(session, call.id or 0)]
    objects += [("district", d) for d in service.all_districts(session)]
    return [Item(kind, obj, contentlang.status(obj, kind)) for kind, obj in objects]


def target_languages(call: Call) -> list[str]:
    """The languages a call may be translated into: all but its original, in the platform's order."""
    return [lang for lang in LANGUAGES if lang != contentlang.original_language(call)]


def save(session: Session, *, actor: User, call: Call, language: str, form: dict[str, str]) -> int:
    """Store the translations into `language` sent from the editor (`form`: `<kind>.<id>.<field>`
    -> text; other keys ignored). Everything is checked before anything is written: raises
    ValidationFailed (keyed by form field, or `language`) for an unknown language, a text too long,
    or a field of an object that is not this call, one of its themes or a district. Records one
    audit entry on the call listing what changed; returns the number of fields changed. Does not
    commit."""
    if language not in target_languages(call):
        raise ValidationFailed({"language": N_("Choose one of the platform's languages, other than the original.")})
    by_key = {f"{item.kind}.{item.obj.id}": item for item in items(session, call)}
    plan: list[tuple[Item, dict[str, str]]] = []
    errors: dict[str, str] = {}
    grouped: dict[str, dict[str, str]] = {}
    for key, text in form.items():
        kind, _sep, rest = key.partition(".")
        obj_id, _sep, name = rest.partition(".")
        if kind not in contentlang.FIELDS:
            continue  # the CSRF token, the language
        if f"{kind}.{obj_id}" not in by_key or name not in contentlang.FIELDS[kind]:
            errors[key] = N_("This field cannot be translated.")
            continue
        grouped.setdefault(f"{kind}.{obj_id}", {})[name] = text
    for obj_key, texts in grouped.items():
        item = by_key[obj_key]
        if contentlang.original_language(item.obj) == language:
            continue  # a theme or district written in this language needs no translation into it
        for name, text in texts.items():
            if len(text) > contentlang.FIELDS[item.kind][name]:
                errors[item.key(name)] = N_("This text is too long.")
        plan.append((item, texts))
    if errors:
        raise ValidationFailed(errors)
    changed: list[str] = []
    for item, texts in plan:
        changed += [item.key(name) for name in contentlang.set_translations(item.obj, item.kind, language, texts)]
        session.add(item.obj)
    if changed:
        audit.record(session, actor=actor, action=audit.AuditAction.translation_save,
                     target_type=audit.TargetType.call, target_id=call.id or 0,
                     details={"language": language, "fields": changed})
    return len(changed)

