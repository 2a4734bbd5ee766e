"""The comments app's settings, with their defaults.

Every value can be set in ``blog_project/settings.py`` (most are read from environment
variables there); reading them through these functions, at call time, lets tests
override them with pytest-django's ``settings`` fixture.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # Spam defence
    "COMMENTS_MIN_FILL_SECONDS": 3,  # a form sent sooner than this after it was shown is a bot
    "COMMENTS_FORM_MAX_AGE": 2 * 24 * 60 * 60,  # older forms must be sent again (fresh stamp)
    "COMMENTS_RATE_LIMIT": 5,  # posts per client ...
    "COMMENTS_RATE_WINDOW": 10 * 60,  # ... per this many seconds
    "COMMENTS_MAX_LENGTH": 5000,  # characters of Markdown
    "COMMENTS_MAX_LINKS": 3,
    "COMMENTS_DUPLICATE_WINDOW": 24 * 60 * 60,  # same text, same author, same article
    # Display
    "COMMENTS_THREADS_PER_PAGE": 50,
    "COMMENTS_MAX_DEPTH": 3,  # deeper replies are shown flat with "replying to @name"
    "COMMENTS_AVATARS": True,  # Gravatar images (the reader's browser asks gravatar.com)
    "COMMENTS_GRAVATAR_DEFAULT": "identicon",
    # The request header holding the client address when behind a proxy (e.g. "X-Real-IP");
    # empty means REMOTE_ADDR.
    "BLOG_CLIENT_IP_HEADER": "",
    # Mail: moderation mail goes to ADMINS, or to active superusers with an address.
    "COMMENTS_MODERATOR_EMAILS": [],
    # Comments awaiting moderation are mailed in one digest per this many seconds, however
    # many arrive (a flood of posts is one mail, not hundreds).
    "COMMENTS_MODERATION_DIGEST_SECONDS": 300,
    # Unsubscribe links in reply mail work for this many days (the mail says so).
    "COMMENTS_UNSUBSCRIBE_DAYS": 90,
}

AUTHOR_COOKIE = "comment_author"
AUTHOR_COOKIE_MAX_AGE = 365 * 24 * 60 * 60
# The reader's own held comments (signed ids), shown to them in place until moderated.
PENDING_COOKIE = "comment_pending"
PENDING_COOKIE_MAX_AGE = 14 * 24 * 60 * 60
PENDING_COOKIE_ITEMS = 10


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


# Lists the comments a browser posted (signed); sent to the comment endpoints only.
PROOF_COOKIE = "comment_proof"
PROOF_COOKIE_MAX_AGE = 365 * 24 * 60 * 60
PROOF_COOKIE_PATH = "/comments/"
