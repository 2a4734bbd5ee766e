"""Media on S3-compatible object storage (BLOG_MEDIA_STORAGE=s3, the Kubernetes default),
against a real S3 server started here (moto's): an editor's upload lands in the bucket with
safe headers, the article shows it from the bucket's URL, the media library lists it, and
seed_demo writes its images there too."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from moto.server import ThreadedMotoServer
from PIL import Image

from articles.models import Article, MediaFile
from articles.tests.factories import ArticleFactory
from blog_project.checks import check_media_bucket

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def public_read_policy(bucket: str) -> dict:
    return {
        "Version": "2012-10-17",  # fixed date: the IAM policy language version
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def _s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "BLOG_MEDIA_STORAGE": "s3",
        "BLOG_S3_BUCKET": bucket,
        "BLOG_S3_ENDPOINT_URL": endpoint,
        "BLOG_S3_REGION": REGION,
        "BLOG_S3_ADDRESSING_STYLE": "path",
        "BLOG_MEDIA_URL": f"{endpoint}/{bucket}/",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts any key
    }


def _settings_from_environment(tmp_path: Path, extra: dict[str, str]) -> dict:
    """What blog_project/settings.py makes of these variables, read in a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOG_S3_", "BLOG_MEDIA_", "AWS_"))}
    env.update(extra, BLOG_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="blog_project.settings")
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'default': s.STORAGES['default'], 'MEDIA_URL': s.MEDIA_URL, "
        "'SERVE_MEDIA': s.SERVE_MEDIA}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def bucket(s3_endpoint, settings, tmp_path):
    """A fresh bucket, and this process's media storage switched to it exactly as the
    settings module configures it from the environment."""
    name = f"blog-media-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=name)
    # Readers fetch objects unsigned: the bucket policy docs/kubernetes.md gives.
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))
    configured = _settings_from_environment(tmp_path, _s3_env(s3_endpoint, name))
    settings.STORAGES = {**settings.STORAGES, "default": configured["default"]}
    settings.MEDIA_URL = configured["MEDIA_URL"]
    settings.MEDIA_ROOT = tmp_path / "not-used"
    settings.BLOG_MEDIA_STORAGE = "s3"
    client.media_url = configured["MEDIA_URL"]
    client.bucket = name
    return client


def _keys(bucket) -> list[str]:
    return [item["Key"] for item in bucket.list_objects_v2(Bucket=bucket.bucket).get("Contents", [])]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 20)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_settings_switch_media_to_the_bucket_and_stop_serving_media_root(tmp_path):
    configured = _settings_from_environment(tmp_path, _s3_env("https://s3.example.net", "blog"))
    assert configured["default"]["BACKEND"] == "blog_project.storage.MediaS3Storage"
    options = configured["default"]["OPTIONS"]
    assert options["bucket_name"] == "blog"
    assert options["querystring_auth"] is False  # public URLs: the same in every cached page
    assert options["file_overwrite"] is False
    assert configured["MEDIA_URL"] == "https://s3.example.net/blog/"
    assert configured["SERVE_MEDIA"] is False
    default = _settings_from_environment(tmp_path, {})
    assert default["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert default["MEDIA_URL"] == "/media/"


def test_settings_refuse_a_relative_media_url_with_s3(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOG_S3_", "BLOG_MEDIA_", "AWS_"))}
    env.update(_s3_env("https://s3.example.net", "blog"), BLOG_MEDIA_URL="/media/")
    env.update(BLOG_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="blog_project.settings")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "BLOG_MEDIA_URL='/media/'" in result.stderr


@pytest.mark.django_db
def test_upload_in_the_editor_lands_in_the_bucket_and_the_article_shows_it(staff_client, bucket):
    response = staff_client.post(
        "/editor/upload/",
        {"image": SimpleUploadedFile("holiday.png", _png(), content_type="text/html"), "alt": "Holiday"},
    )
    assert response.status_code == 200, response.content
    media = response.json()["media"]
    url = media["url"]
    assert url.startswith(bucket.media_url + "uploads/") and url.endswith(".png")
    key = url.removeprefix(bucket.media_url)
    assert _keys(bucket) == [key]

    # The object carries the headers nginx would give it, whatever type the client claimed.
    head = bucket.head_object(Bucket=bucket.bucket, Key=key)
    assert head["ContentType"] == "image/png"
    assert head["CacheControl"] == "public, max-age=2592000"
    assert head["ContentDisposition"] == 'inline; filename="image.png"'
    with urllib.request.urlopen(url, timeout=10) as fetched:  # noqa: S310 - the local S3 server
        assert fetched.headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(fetched.read())).size == (40, 30)

    article = ArticleFactory(body=f"A picture:\n\n{response.json()['image_code']}\n")
    page = staff_client.get(article.get_absolute_url())
    assert page.status_code == 200
    assert f'src="{url}"' in page.content.decode()
    stored = MediaFile.objects.get(pk=media["id"])
    assert stored.is_used()  # the bucket URL in body_html is recognised as this upload

    library = staff_client.get("/editor/media/").json()["results"]
    assert [(item["id"], item["url"], item["alt"]) for item in library] == [(stored.pk, url, "Holiday")]


@pytest.mark.django_db
def test_the_bucket_takes_images_only(bucket):
    with pytest.raises(SuspiciousFileOperation):
        default_storage.save("uploads/page.html", ContentFile(b"<script>alert(1)</script>"))
    with pytest.raises(SuspiciousFileOperation):
        default_storage.save("uploads/logo.svg", ContentFile(b"<svg onload=alert(1)>"))
    assert _keys(bucket) == []


@pytest.mark.django_db
def test_seed_demo_writes_its_images_to_the_bucket(bucket):
    call_command("seed_demo", "--articles", "1", verbosity=0)
    assert sorted(_keys(bucket)) == [
        "demo/cache-diagram.png",
        "demo/desk.webp",
        "demo/latency-chart.png",
        "demo/mountains.webp",
    ]
    tour = Article.objects.get(is_pinned=True)
    assert f'src="{bucket.media_url}demo/mountains.webp"' in tour.body_html
    assert "/media/demo/" not in tour.body_html.replace(bucket.media_url + "demo/", "")
    # A second run finds them there and writes nothing new.
    call_command("seed_demo", "--articles", "1", verbosity=0)
    assert len(_keys(bucket)) == 4


@pytest.mark.django_db
def test_the_start_up_check_finds_the_bucket(bucket, settings):
    assert check_media_bucket() == []
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "bucket_name": "no-such-bucket"},
        },
    }
    (warning,) = check_media_bucket()
    assert warning.id == "blog.W002"
    assert "The media bucket 'no-such-bucket' at http://127.0.0.1:" in warning.msg


def test_the_start_up_check_names_a_store_that_does_not_answer(settings, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    configured = _settings_from_environment(tmp_path, _s3_env(endpoint, "blog"))
    settings.STORAGES = {**settings.STORAGES, "default": configured["default"]}
    settings.BLOG_MEDIA_STORAGE = "s3"
    (warning,) = check_media_bucket()
    assert f"The media bucket 'blog' at {endpoint} cannot be used" in warning.msg
