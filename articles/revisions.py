"""Revisions of articles and pages (django-reversion): a readable diff between two
versions and a one-click restore.

Every save in the admin stores a version (``VersionAdmin``); the history page lists them
with a diff against the current text and a restore button. Restoring copies the stored
*content* back (``RESTORED_FIELDS``: text, taxonomy, images, SEO texts; never the status,
publication time, slug or author, as WordPress does) through the model's ``save()`` (so
the HTML, summary, search text and media usage are rebuilt) inside a new revision, so a
restore can itself be undone. A live article stays live with the older text.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import reversion
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import formats, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from reversion.models import Version

CONTEXT_LINES = 2
_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str = ""
    new: str = ""
    diff_html: SafeString | None = None  # long text: a line diff instead of old/new


def _words_diff(old: str, new: str) -> tuple[str, str]:
    """Both lines with the changed words marked."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    old_html: list[str] = []
    new_html: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        left, right = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            old_html.append(left)
            new_html.append(right)
        else:
            if left:
                old_html.append(f"<del>{left}</del>")
            if right:
                new_html.append(f"<ins>{right}</ins>")
    return "".join(old_html), "".join(new_html)


def text_diff_html(old: str, new: str, *, context: int = CONTEXT_LINES) -> SafeString:
    """A line diff (removed lines, then added ones, changed words marked) with a few lines
    of context around each change and the unchanged stretches folded."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[str] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if rows:
            rows.append('<tr class="diff-fold"><td colspan="2">⋯</td></tr>')
        for op, i1, i2, j1, j2 in group:
            if op == "equal":
                rows.extend(
                    f'<tr class="diff-same"><td>{j + 1}</td><td>{escape(line)}</td></tr>'
                    for j, line in zip(range(j1, j2), b[j1:j2], strict=True)
                )
                continue
            removed, added = a[i1:i2], b[j1:j2]
            if op == "replace" and len(removed) == len(added):
                pairs = [_words_diff(x, y) for x, y in zip(removed, added, strict=True)]
                removed_html, added_html = [p[0] for p in pairs], [p[1] for p in pairs]
            else:
                removed_html, added_html = [escape(x) for x in removed], [escape(y) for y in added]
            rows.extend(f'<tr class="diff-del"><td>−</td><td>{line}</td></tr>' for line in removed_html)
            rows.extend(
                f'<tr class="diff-add"><td>{j + 1}</td><td>{line}</td></tr>'
                for j, line in zip(range(j1, j2), added_html, strict=True)
            )
    if not rows:
        return mark_safe("")
    return mark_safe(f'<table class="text-diff">{"".join(rows)}</table>')


def _related_manager(field: models.Field) -> models.Manager:
    """The related model's manager (a class once the apps are loaded, never "self")."""
    related = field.related_model
    assert isinstance(related, type)
    return related._default_manager


def _display(field: models.Field, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(field, models.ManyToManyField):
        rows = {related.pk: str(related) for related in _related_manager(field).filter(pk__in=value)}
        return ", ".join(rows.get(pk, f"#{pk} ({_('deleted')})") for pk in value) or "—"
    if isinstance(field, models.ForeignKey):
        target = _related_manager(field).filter(pk=value).first()
        return str(target) if target is not None else f"#{value} ({_('deleted')})"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if hasattr(value, "tzinfo"):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    return str(value)


def _versioned_fields(model: type[models.Model]) -> list[models.Field]:
    fields = reversion.revisions._get_options(model).fields
    # Versioned fields are the model's concrete fields and many-to-many fields.
    return cast(
        "list[models.Field]", [model._meta.get_field(name) for name in fields if name != model._meta.pk.name]
    )


def current_values(obj: models.Model) -> dict:
    """The object's versioned fields, shaped like ``Version.field_dict``."""
    values = {}
    for field in _versioned_fields(type(obj)):
        if isinstance(field, models.ManyToManyField):
            values[field.attname] = list(getattr(obj, field.name).values_list("pk", flat=True))
        else:
            values[field.attname] = getattr(obj, field.attname)
    return values


def changes_between(model: type[models.Model], old: dict, new: dict) -> list[FieldChange]:
    """What differs from ``old`` to ``new`` (two field dicts), field by field, in form order."""
    changes = []
    for field in _versioned_fields(model):
        before, after = old.get(field.attname), new.get(field.attname)
        if isinstance(field, models.ManyToManyField):
            before, after = sorted(before or []), sorted(after or [])
        if isinstance(before, datetime) and isinstance(after, datetime):
            # The form's time fields drop microseconds: not a change anyone made.
            before, after = before.replace(microsecond=0), after.replace(microsecond=0)
        if before == after:
            continue
        label = str(field.verbose_name).capitalize()
        if isinstance(field, models.TextField) and "\n" in f"{before or ''}{after or ''}":
            changes.append(FieldChange(label=label, diff_html=text_diff_html(before or "", after or "")))
        else:
            old_text, new_text = _display(field, before), _display(field, after)
            if old_text == new_text:  # two rows that read the same (two images with one alt text)
                old_text, new_text = f"{old_text} (#{before})", f"{new_text} (#{after})"
            changes.append(FieldChange(label=label, old=old_text, new=new_text))
    return changes


def ensure_baseline(obj: models.Model) -> None:
    """Keep the stored state of a row saved before revisions existed, so that its first edit
    in the admin can be undone too."""
    if not Version.objects.get_for_object(obj).exists():
        with reversion.create_revision():
            reversion.add_to_revision(obj)
            reversion.set_comment(_("As it was before this edit (the first version kept)."))


# What "Restore this version" puts back, per model: the content, never when or whether
# readers see it (nor the URL or the author).
RESTORED_FIELDS: dict[str | None, tuple[str, ...]] = {  # by model_name
    "article": (
        "title",
        "body",
        "summary_is_auto",
        "summary",
        "category",
        "tags",
        "featured_image",
        "seo_title",
        "seo_description",
    ),
    "page": ("title", "body"),
}


def restored_fields(model: type[models.Model]) -> list[models.Field]:
    names = RESTORED_FIELDS.get(model._meta.model_name, ())
    return [field for field in _versioned_fields(model) if field.name in names]


def versions_of(obj: models.Model):
    return Version.objects.get_for_object(obj).select_related("revision", "revision__user")


@transaction.atomic
def revision_restore(*, obj: models.Model, version: Version, user) -> list[str]:
    """Put the version's content back (as a new revision) and return the labels of the
    fields that changed. Related rows deleted since are skipped: a missing category or
    featured image keeps the current one, missing tags are left out."""
    values = version.field_dict
    fields = restored_fields(type(obj))
    names = {field.attname for field in fields}
    now = {name: value for name, value in current_values(obj).items() if name in names}
    then = {name: value for name, value in values.items() if name in names}
    changed = [change.label for change in changes_between(type(obj), now, then)]
    for field in fields:
        if field.attname not in values or isinstance(field, models.ManyToManyField):
            continue
        value = values[field.attname]
        is_fk = isinstance(field, models.ForeignKey) and value is not None
        if is_fk and not _related_manager(field).filter(pk=value).exists():
            continue
        setattr(obj, field.attname, value)
    try:
        obj.full_clean()
    except ValidationError as exc:
        message = _("This version cannot be restored: %(reasons)s") % {"reasons": "; ".join(exc.messages)}
        raise ValidationError(message) from exc
    with reversion.create_revision():
        obj.save()
        for field in fields:
            if isinstance(field, models.ManyToManyField) and field.attname in values:
                existing = _related_manager(field).filter(pk__in=values[field.attname])
                getattr(obj, field.name).set(existing)
        reversion.set_user(user)
        when = formats.date_format(timezone.localtime(version.revision.date_created), "DATETIME_FORMAT")
        what = ", ".join(changed) if changed else _("nothing differed")
        comment = _("Restored version of %(when)s (%(fields)s).") % {"when": when, "fields": what}
        reversion.set_comment(comment)
    return changed
