"""Autosave of the draft being written, on the server.

The editor's browser posts the text fields of the open form every few seconds while they
change (``/editor/autosave/``, staff only, CSRF-checked).

- A new article or page becomes a real row on its first autosave: an article in status
  draft (listed under Drafts), a page unpublished. The tab goes on as that row's change
  form, so two "Add article" tabs are two drafts, and the draft can be opened from any tab.
- Later autosaves are kept in ``EditorAutosave``: one row per article or page, whoever
  typed it, offered back by the form while it is newer than the stored row.
- No silent overwrite: each tab says which autosave it has seen (``base``, the version it
  loaded or last wrote). When another tab or editor wrote a newer one since, the post is
  refused with 409 and the tab shows a conflict notice; it may then keep its own text
  (posting again with the newer version as its base) or load the other one.
- Saving the form drops the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_unicode_slug
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils.translation import gettext

from .markdown import MAX_MARKDOWN_LENGTH
from .models import Article, EditorAutosave, Page

# The fields worth recovering: what is typed, not what is picked from a list.
FIELDS: dict[str, tuple[str, ...]] = {
    EditorAutosave.Kind.ARTICLE: ("title", "slug", "body", "summary", "seo_title", "seo_description"),
    EditorAutosave.Kind.PAGE: ("title", "slug", "body"),
}
MODELS: dict[str, type[Article] | type[Page]] = {
    EditorAutosave.Kind.ARTICLE: Article,
    EditorAutosave.Kind.PAGE: Page,
}
SHORT_FIELD_LIMIT = 2000


@dataclass(frozen=True)
class AutosaveTarget:
    kind: str
    object_id: int  # 0: not saved yet

    @classmethod
    def from_request(cls, request: HttpRequest) -> AutosaveTarget | None:
        kind = request.POST.get("kind", "")
        raw_id = request.POST.get("object_id", "") or "0"
        if kind not in FIELDS or not raw_id.isdigit() or len(raw_id) > 18:
            return None
        target = cls(kind=kind, object_id=int(raw_id))
        if target.object_id and not MODELS[kind].objects.filter(pk=target.object_id).exists():
            return None
        return target

    @property
    def model(self):
        return MODELS[self.kind]


@dataclass(frozen=True)
class AutosaveResult:
    object_id: int
    created: bool  # the first autosave of a new article or page made its row
    saved: EditorAutosave | None = None
    conflict: EditorAutosave | None = None  # newer than the tab's base: nothing was stored


def _rows(target: AutosaveTarget):
    return EditorAutosave.objects.filter(kind=target.kind, object_id=target.object_id).select_related("user")


def version_of(saved: EditorAutosave) -> str:
    return saved.updated_at.isoformat()


def _clean_fields(kind: str, fields) -> dict[str, str]:
    data = {}
    for name in FIELDS[kind]:
        if name in fields:
            limit = MAX_MARKDOWN_LENGTH if name == "body" else SHORT_FIELD_LIMIT
            # Forms send CRLF line ends; keep what the textarea shows.
            data[name] = str(fields[name]).replace("\r\n", "\n")[:limit]
    return data


def draft_create(*, kind: str, user, data: dict[str, str]):
    """The row a new article (a draft) or page (unpublished) becomes on its first autosave."""
    model = MODELS[kind]
    values = {}
    for name, value in data.items():
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)  # the autosaved fields are concrete
        max_length = field.max_length
        values[name] = value[:max_length] if max_length else value
    if values.get("slug"):
        try:
            validate_unicode_slug(values["slug"])
        except ValidationError:
            values["slug"] = ""
        if model.objects.filter(slug=values["slug"]).exists():
            values["slug"] = ""  # made from the title on save, unique
    if not values.get("title", "").strip():
        values["title"] = gettext("Untitled draft")
    obj: Article | Page
    if kind == EditorAutosave.Kind.ARTICLE:
        obj = Article(**values, author=user, status=Article.Status.DRAFT)
    else:
        obj = Page(**values, is_published=False, show_in_nav=False)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        # The typed slug was taken between the check and the save: one made from the title.
        obj.pk, obj.slug = None, ""
        obj._state.adding = True
        obj.save()
    return obj


def autosave_store(*, target: AutosaveTarget, user, fields, base: str = "") -> AutosaveResult:
    data = _clean_fields(target.kind, fields)
    if not target.object_id:
        if not any(value.strip() for value in data.values()):
            return AutosaveResult(object_id=0, created=False)  # nothing typed yet
        obj = draft_create(kind=target.kind, user=user, data=data)
        return AutosaveResult(object_id=obj.pk, created=True)
    try:
        with transaction.atomic():
            current = _rows(target).select_for_update().first()
            if current is not None and version_of(current) != base:
                return AutosaveResult(object_id=target.object_id, created=False, conflict=current)
            if current is None:
                current = EditorAutosave(kind=target.kind, object_id=target.object_id)
            current.user, current.data = user, data
            current.save()
    except IntegrityError:
        # Another tab created the row between our read and write.
        current = _rows(target).get()
        return AutosaveResult(object_id=target.object_id, created=False, conflict=current)
    return AutosaveResult(object_id=target.object_id, created=False, saved=current)


def autosave_discard(*, target: AutosaveTarget) -> None:
    EditorAutosave.objects.filter(kind=target.kind, object_id=target.object_id).delete()


def autosave_state(*, target: AutosaveTarget, stored_at: datetime | None) -> dict | None:
    """What the form tells its tab about the article's autosave: the version the tab has
    seen, and the text when it is newer than the stored row (offered back)."""
    if not target.object_id:
        return None
    saved = _rows(target).first()
    if saved is None:
        return None
    pending = stored_at is None or saved.updated_at > stored_at
    return {
        "version": version_of(saved),
        "saved_at": saved.updated_at.isoformat(),
        "by": author_name(saved),
        "pending": pending,
        "fields": saved.data if pending else {},
    }


def author_name(saved: EditorAutosave) -> str:
    user = saved.user
    return (user.get_full_name() or user.get_username()) if user else ""
