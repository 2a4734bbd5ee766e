"""Container health check for a web replica: GET /readyz, which asks the database (and
reports on Redis). 503 (the database does not answer) or no answer within the timeout
is unhealthy; 200 is healthy, "degraded" included (pages are served without Redis).

The Host header is one the site accepts (the first of DJANGO_ALLOWED_HOSTS), so the check
works whatever domain the operator configured.
"""

import os
import sys
import urllib.error
import urllib.request

hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/readyz",
    headers={"Host": host, "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 - fixed local URL
        sys.exit(0 if response.status == 200 else 1)
except urllib.error.HTTPError as exc:
    print(f"not ready: {exc.code} {exc.read(500).decode(errors='replace')}", file=sys.stderr)
    sys.exit(1)
except Exception as exc:
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
