"""Uploads on S3-compatible object storage (``BLOG_MEDIA_STORAGE=s3``), as safe as nginx's /media/.

deploy/nginx.conf serves the media volume with ``X-Content-Type-Options: nosniff``, a
sandboxing Content-Security-Policy and 30 days of caching. An object store answers with
the headers stored on the object, and S3 stores only a fixed few (Content-Type,
Content-Disposition, Cache-Control, Content-Encoding, Content-Language, Expires), so:

- every object gets its Content-Type from an allow-list of image types, chosen by the name
  our code gave it (``articles/media.py`` re-encodes every upload and names it after its
  real format), never from what a client sent nor from guessing; any other name is
  refused, so nothing a browser would run as a page (HTML, SVG) can land in the bucket;
- ``Content-Disposition: inline`` with a fixed file name, and the same 30-day
  ``Cache-Control`` as nginx's ``expires 30d``;
- nosniff and the CSP cannot be stored on an object: docs/kubernetes.md says how a CDN
  in front of the bucket adds them, and why the bucket is served from its own origin.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from botocore.config import Config
from django.core.exceptions import SuspiciousFileOperation
from storages.backends.s3 import S3Storage

CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}
CACHE_CONTROL = "public, max-age=2592000"  # nginx: expires 30d
# An upload waits seconds, not botocore's minutes, for a store that is down or hung.
TIMEOUTS = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})


def bucket_problem(storage: S3Storage) -> str | None:
    """One line if the bucket cannot be reached with these settings and keys, else None."""
    try:
        storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
    except Exception as exc:
        where = storage.endpoint_url or "AWS"
        return (
            f"The media bucket {storage.bucket_name!r} at {where} cannot be used: {exc} "
            "(check BLOG_S3_BUCKET, BLOG_S3_ENDPOINT_URL, BLOG_S3_REGION and the keys)."
        )
    return None


def object_parameters(name: str) -> dict[str, str]:
    """The headers stored with an object of this name; refuses any name not an image's."""
    suffix = PurePosixPath(name).suffix.lower()
    content_type = CONTENT_TYPES.get(suffix)
    if content_type is None:
        raise SuspiciousFileOperation(f"Only JPEG, PNG and WebP images are stored as media, not {name!r}.")
    return {
        "ContentType": content_type,
        "ContentDisposition": f'inline; filename="image{suffix}"',
        "CacheControl": CACHE_CONTROL,
    }


class MediaS3Storage(S3Storage):
    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.client_config: Config = self.client_config.merge(TIMEOUTS)

    def get_object_parameters(self, name: str) -> dict:
        return {**super().get_object_parameters(name), **object_parameters(name)}
