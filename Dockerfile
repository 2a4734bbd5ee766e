# syntax=docker/dockerfile:1
# One image for web, worker, beat and migrate (see compose.yaml).

# --- build: the dependencies in a virtualenv (mysqlclient needs a compiler and the MariaDB
# headers), every downloaded file checked against the hashes in the lock ------------------
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential default-libmysqlclient-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --require-hashes -r /tmp/requirements.txt

# --- runtime: no compiler, only the client library; runs as an unprivileged user ---------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    BLOG_VAR_DIR=/app/var \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/app/var/media \
    GUNICORN_BIND=0.0.0.0:8000
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmariadb3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 1000 blog \
    && useradd --system --uid 1000 --gid blog --home-dir /app --shell /usr/sbin/nologin blog
# The virtualenv whole (the same Python at the same path in both stages).
COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# The code stays owned by root: the app user can read it, not change it.
COPY . .
# Static files are collected (hashed and compressed) into the image. The key below exists
# only for this one command; it is not part of the image's environment.
RUN DJANGO_ENV=production DJANGO_SECRET_KEY=collectstatic-build-step-only BLOG_VAR_DIR=/tmp/build-var \
        python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var/media /app/var/imports \
    && chown -R blog:blog /app/var
USER blog
EXPOSE 8000
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "blog_project.wsgi"]
