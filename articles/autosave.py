"""Autosave of the draft being written, on the server.

The editor's browser posts the text fields of the open form every few seconds while they
change (``/editor/autosave/``, staff only, CSRF-checked). They are kept in
``EditorAutosave``, one row per editor and article or page (``object_id`` 0 for one not
saved yet), so a crash, a closed tab or another computer loses at most a few seconds. The
form offers the row back when it is newer than the stored article, and saving the form
drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest

from .markdown import MAX_MARKDOWN_LENGTH
from .models import Article, EditorAutosave, Page

# The fields worth recovering: what is typed, not what is picked from a list.
FIELDS = {
    EditorAutosave.Kind.ARTICLE: ("title", "slug", "body", "summary", "seo_title", "seo_description"),
    EditorAutosave.Kind.PAGE: ("title", "slug", "body"),
}
MODELS = {EditorAutosave.Kind.ARTICLE: Article, EditorAutosave.Kind.PAGE: Page}
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


def autosave_store(*, target: AutosaveTarget, user, fields) -> EditorAutosave:
    data = {}
    for name in FIELDS[target.kind]:
        if name in fields:
            limit = MAX_MARKDOWN_LENGTH if name == "body" else SHORT_FIELD_LIMIT
            # Forms send CRLF line ends; keep what the textarea shows.
            data[name] = str(fields[name]).replace("\r\n", "\n")[:limit]
    saved, _created = EditorAutosave.objects.update_or_create(
        user=user, kind=target.kind, object_id=target.object_id, defaults={"data": data}
    )
    return saved


def autosave_discard(*, target: AutosaveTarget, user) -> None:
    EditorAutosave.objects.filter(user=user, kind=target.kind, object_id=target.object_id).delete()


def autosave_pending(*, target: AutosaveTarget, user, stored_at: datetime | None) -> EditorAutosave | None:
    """The autosave to offer back: only one newer than what the form shows from the database."""
    saved = EditorAutosave.objects.filter(user=user, kind=target.kind, object_id=target.object_id).first()
    if saved is None or (stored_at is not None and saved.updated_at <= stored_at):
        return None
    return saved
