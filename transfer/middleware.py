"""301s from imported sites' old addresses, asked only when the page would be a 404."""

from __future__ import annotations

from django.http import HttpResponsePermanentRedirect

from .models import LegacyRedirect, legacy_path_key

MAX_PATH: int = LegacyRedirect._meta.get_field("old_path").max_length  # type: ignore[assignment]  # set on the model


def _candidates(path: str) -> list[str]:
    # WordPress permalinks end in a slash; a reader may have dropped it (or added one).
    other = path[:-1] if path.endswith("/") and len(path) > 1 else f"{path}/"
    return [candidate for candidate in (path, other) if len(candidate) <= MAX_PATH]


class LegacyRedirectMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 404 or request.method not in ("GET", "HEAD"):
            return response
        found = (
            LegacyRedirect.objects.filter(
                path_key__in=[legacy_path_key(c) for c in _candidates(request.path)]
            )
            .select_related("article", "page", "media")
            .first()
        )
        target = found.target_url() if found is not None else ""
        if not target or target == request.path:
            return response
        return HttpResponsePermanentRedirect(target)
