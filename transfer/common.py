"""What every importer shares: the report, the media source (a tarball or a folder), the
idempotency map (``ImportedItem``), authors, slugs, media files and redirects.

An import never overwrites a row it did not create: an item already imported from the
same source is left alone (so a second run changes nothing), and a slug taken by another
row gives the new row another slug, reported.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from articles.media import FORMATS, media_create
from articles.models import MediaFile, unique_slug

from .models import ImportedItem, LegacyRedirect, legacy_path_key

MAX_MEDIA_BYTES = 50 * 1024 * 1024


class TransferError(Exception):
    """The file or folder cannot be imported, exported or restored at all (not an export,
    unreadable, not empty): a clear message for the command or the admin."""


def as_int(value, default: int = 0) -> int:
    """A number from an export, or ``default`` for anything else (exports are not trusted)."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


@dataclass
class Report:
    """What an import did: counts per kind, renamed rows, skipped items and notes."""

    imported: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    renamed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            "Imported: "
            + (", ".join(f"{n} {kind}" for kind, n in sorted(self.imported.items())) or "nothing")
        ]
        if self.unchanged:
            out.append(
                "Already imported, left unchanged: "
                + ", ".join(f"{n} {kind}" for kind, n in sorted(self.unchanged.items()))
            )
        # A missing image shown by several posts is one line.
        out += [f"Renamed: {line}" for line in dict.fromkeys(self.renamed)]
        out += [f"Skipped: {line}" for line in dict.fromkeys(self.skipped)]
        out += [f"Note: {line}" for line in dict.fromkeys(self.notes)]
        return out


class MediaSource:
    """The files of an export's media: a ``.tar.gz`` (read without extracting, so no path
    in it can write anywhere) or a folder (read only below it)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, tarfile.TarInfo] = {}
        if self.path is None:
            return
        if self.path.is_dir():
            return
        if not self.path.is_file():
            raise TransferError(f"No media file or folder at {self.path}.")
        try:
            self._tar = tarfile.open(self.path)  # noqa: SIM115 - kept open while importing
        except (tarfile.TarError, OSError) as exc:
            raise TransferError(f"{self.path} is not a tar archive: {exc}") from exc
        for member in self._tar.getmembers():
            if member.isfile():
                self._members[posixpath.normpath(member.name).lstrip("./")] = member

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()

    def read(self, relative: str) -> bytes | None:
        """The bytes of ``relative`` (e.g. ``uploads/2023/04/a.jpg``), None if absent."""
        relative = posixpath.normpath(relative).lstrip("/")
        if relative.startswith(".."):
            return None
        if self._tar is not None:
            member = self._members.get(relative)
            if member is None or member.size > MAX_MEDIA_BYTES:
                return None
            handle = self._tar.extractfile(member)
            return handle.read() if handle else None
        if self.path is None:
            return None
        # A folder may be the archive's top folder itself or the one holding it.
        for base in (self.path, self.path.parent):
            candidate = (base / relative).resolve()
            if candidate.is_relative_to(base.resolve()) and candidate.is_file():
                if candidate.stat().st_size > MAX_MEDIA_BYTES:
                    return None
                return candidate.read_bytes()
        return None


class Importer:
    """The shared machinery; ``source`` names where the items come from."""

    source = ""

    def __init__(self, *, media: MediaSource, report: Report | None = None, progress=None) -> None:
        self.media = media
        self.report = report or Report()
        self._media_by_key: dict[str, MediaFile | None] = {}
        # progress(done, total): called after each post or page (the admin's progress view).
        self.progress = progress or (lambda _done, _total: None)

    # --- idempotency ---------------------------------------------------------------------

    def known(self, kind: str, source_id: object) -> int | None:
        row = ImportedItem.objects.filter(source=self.source, kind=kind, source_id=str(source_id)).first()
        return row.object_id if row else None

    def remember(self, kind: str, source_id: object, obj: models.Model) -> None:
        ImportedItem.objects.update_or_create(
            source=self.source, kind=kind, source_id=str(source_id), defaults={"object_id": obj.pk}
        )

    def known_object(self, kind: str, source_id: object, model: type[models.Model]):
        pk = self.known(kind, source_id)
        return model._default_manager.filter(pk=pk).first() if pk is not None else None

    # --- slugs ---------------------------------------------------------------------------

    def free_slug(self, model: type[models.Model], wanted: str, *, what: str, max_length: int = 200) -> str:
        """``wanted`` (percent-decoded) if no row has it yet, else another one, reported."""
        slug = slugify(unquote(wanted or ""), allow_unicode=True)[:max_length].strip("-")
        if slug and not model._default_manager.filter(slug=slug).exists():
            return slug
        new = unique_slug(model, slug or what, max_length=max_length)
        if slug:
            self.report.renamed.append(f"{what}: slug “{slug}” is taken, imported as “{new}”")
        return new

    # --- authors -------------------------------------------------------------------------

    def author(self, *, source_id: str, login: str, email: str, first_name: str = "", last_name: str = ""):
        """An existing user with this e-mail, else a new inactive one (who cannot log in
        until an administrator gives them a password and activates them)."""
        User = get_user_model()
        user = self.known_object(ImportedItem.Kind.USER, source_id, User)
        if user is not None:
            return user
        if email:
            user = User.objects.filter(email__iexact=email).order_by("pk").first()
        if user is None:
            base = slugify(login or email.split("@")[0] or "author")[:140] or "author"
            username, n = base, 2
            while User.objects.filter(username=username).exists():
                username, n = f"{base}{n}", n + 1
            user = User(
                username=username,
                email=email,
                first_name=first_name[:150],
                last_name=last_name[:150],
                is_active=False,
            )
            user.set_unusable_password()
            user.save()
            self.report.imported["authors (created inactive)"] += 1
            self.report.notes.append(f"author {login or email} created as inactive user “{username}”")
        else:
            self.report.notes.append(
                f"author {login or email} mapped to existing user “{user.get_username()}”"
            )
        self.remember(ImportedItem.Kind.USER, source_id, user)
        return user

    # --- media ---------------------------------------------------------------------------

    def media_file(
        self, *, key: str, relative: str, alt_text: str = "", user=None, what: str = ""
    ) -> MediaFile | None:
        """The library file for ``relative`` in the media source, imported once (keyed by
        ``key``); None, reported, when the file is missing or not an image we take."""
        if key in self._media_by_key:
            return self._media_by_key[key]
        media = self.known_object(ImportedItem.Kind.MEDIA, key, MediaFile)
        if media is not None:
            self.report.unchanged["media files"] += 1
        else:
            media = self._media_new(relative, alt_text=alt_text, user=user, what=what or relative)
            if media is not None:
                self.remember(ImportedItem.Kind.MEDIA, key, media)
                self.report.imported["media files"] += 1
        self._media_by_key[key] = media
        return media

    def _media_new(self, relative: str, *, alt_text: str, user, what: str) -> MediaFile | None:
        data = self.media.read(relative)
        if data is None:
            why = "no media given" if self.media.path is None else "not in the media archive"
            self.report.skipped.append(f"media {what}: {why} ({relative})")
            return None
        try:
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS or image.width * image.height > settings.BLOG_UPLOAD_MAX_PIXELS:
                raise ValueError(image.format)
            image.load()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            self.report.skipped.append(f"media {what}: not a JPEG, PNG or WebP image we accept ({relative})")
            return None
        return media_create(
            image=image, original_name=posixpath.basename(relative), alt_text=alt_text, user=user
        )

    # --- redirects -----------------------------------------------------------------------

    def redirect(self, old_url: str, **target) -> None:
        """A 301 from the path of ``old_url`` (a query string is not kept: ``/?p=1`` lands
        on the home page, which exists) to the target, unless it is the same address."""
        parts = urlsplit(old_url or "")
        path = unquote(parts.path or "")
        if not path or path == "/" or parts.query or len(path) > 500:
            return
        obj = next(iter(target.values()))
        if (obj.url if isinstance(obj, MediaFile) else obj.get_absolute_url()) == path:
            return
        defaults = {"old_path": path, "article": None, "page": None, "media": None, **target}
        LegacyRedirect.objects.update_or_create(path_key=legacy_path_key(path), defaults=defaults)
        self.report.imported["redirects"] += 1
