#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

A configuration mistake (a malformed DATABASE_URL, a database that does not answer or
refuses the credentials) is reported as one line and exit status 1, not a traceback.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_project.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"Configuration error: {exc}")
    except OperationalError as exc:
        from blog_project.errors import is_database_outage

        if not is_database_outage(exc):
            raise
        from blog_project.checks import database_problem

        sys.exit(f"Database error: {database_problem() or exc}")


if __name__ == "__main__":
    main()
