"""The markdownx preview and upload endpoints: staff only, same renderer as body_html, real
JPEG/PNG/WebP only (re-encoded, metadata stripped, size-limited), never a 500."""

import io
import random
import re
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, ImageCms, PngImagePlugin

from articles.markdown import MAX_MARKDOWN_LENGTH, render_markdown
from articles.models import Article
from articles.tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db

PREVIEW = "/editor/markdownify/"
UPLOAD = "/editor/upload/"

RICH_SAMPLE = """# Title

Intro with **bold**, *em*, ~~gone~~, `code`, a [link](https://example.com) and https://auto.example.

## Section 中文标题

- [x] done
- [ ] todo

1. one
2. two

| Left | Right |
|:-----|------:|
| a    | 1     |

```python
def f(x):
    return x * 2  # comment
```

> quote[^1]

![alt](/media/demo/pic.png)

<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>

[^1]: A footnote.
"""


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def editor_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))  # roles: test_roles.py
    return client


def image_bytes(fmt: str, size=(64, 48), mode="RGB", **save_options) -> bytes:
    image = Image.new(mode, size)
    # Some structure, so encoders do real work and colours can be compared.
    image.paste((220, 40, 40) if mode == "RGB" else 200, (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save_options)
    return buffer.getvalue()


def upload(client, data: bytes, name="photo.png", content_type="image/png"):
    return client.post(UPLOAD, {"image": SimpleUploadedFile(name, data, content_type=content_type)})


def saved_files(media_root: Path) -> list[Path]:
    return [p for p in media_root.rglob("*") if p.is_file()]


def saved_image(response, media_root: Path) -> tuple[Path, Image.Image]:
    """The file named in the returned image_code, opened."""
    assert response.status_code == 200, response.content
    code = response.json()["image_code"]
    match = re.fullmatch(r"!\[\]\((/media/(uploads/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp)))\)", code)
    assert match, code
    path = media_root / match.group(2)
    assert path.is_file()
    return path, Image.open(path)


def png_bomb(width: int, height: int, *, rgba: bool = False) -> bytes:
    """A valid PNG (1-bit grey, or 8-bit RGBA) whose pixels are all zero: tiny on disk,
    huge in memory."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width * 4 if rgba else (width + 7) // 8))
    rows_per_step = max(1, 4_000_000 // len(row))
    idat, left = [], height
    while left:
        step = min(left, rows_per_step)
        idat.append(compressor.compress(row * step))
        left -= step
    idat.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8 if rgba else 1, 6 if rgba else 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(idat)) + chunk(b"IEND", b"")
    )


# --- Who may call them ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "reader", "inactive staff"])
def test_preview_refuses_non_staff(client, who):
    if who == "reader":
        client.force_login(UserFactory())
    elif who == "inactive staff":
        client.force_login(UserFactory(is_staff=True, is_active=False))
    response = client.post(PREVIEW, {"content": "**secret** <b>html</b>"})
    assert response.status_code == 403
    assert b"<strong>" not in response.content
    assert "error" in response.json()


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_upload_refuses_non_staff_and_saves_nothing(client, media_root, who):
    if who == "reader":
        client.force_login(UserFactory())
    response = upload(client, image_bytes("PNG"))
    assert response.status_code == 403
    assert "image_code" not in response.json()
    assert saved_files(media_root) == []


@pytest.mark.parametrize("url", [PREVIEW, UPLOAD])
def test_get_is_not_allowed(editor_client, url):
    assert editor_client.get(url).status_code == 405
    assert Client().get(url).status_code == 405


@pytest.mark.parametrize("url", [PREVIEW, UPLOAD])
def test_post_without_csrf_token_is_refused(url, media_root):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_staff=True))
    data = (
        {"content": "**x**"} if url == PREVIEW else {"image": SimpleUploadedFile("a.png", image_bytes("PNG"))}
    )
    response = client.post(url, data)
    assert response.status_code == 403
    assert b"<strong>" not in response.content
    assert saved_files(media_root) == []


def test_post_with_csrf_token_is_accepted():
    """What the markdownx script does: the token from the cookie, sent as a form field."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/articles/article/add/").status_code == 200  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(PREVIEW, {"content": "**x**", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert response.content == b"<p><strong>x</strong></p>\n"


# --- Preview --------------------------------------------------------------------------


def test_preview_is_exactly_what_readers_get(editor_client):
    response = editor_client.post(PREVIEW, {"content": RICH_SAMPLE})
    assert response.status_code == 200
    preview = response.content.decode()
    assert preview == render_markdown(RICH_SAMPLE).html
    article = ArticleFactory(body=RICH_SAMPLE)
    assert preview == Article.objects.get(pk=article.pk).body_html
    # The sample exercised the whole renderer, sanitiser included.
    for fragment in (
        "<strong>bold</strong>",
        "<table>",
        'class="hl-',
        "footnote",
        'type="checkbox"',
        "<s>gone</s>",
    ):
        assert fragment in preview
    for forbidden in ("<script", "onerror", "javascript:"):
        assert forbidden not in preview


def test_preview_of_empty_text_is_empty(editor_client):
    response = editor_client.post(PREVIEW, {"content": "  "})
    assert response.status_code == 200
    assert response.content == b""
    assert editor_client.post(PREVIEW, {}).status_code == 200


def test_preview_refuses_text_that_is_too_long(editor_client):
    response = editor_client.post(PREVIEW, {"content": "a" * (MAX_MARKDOWN_LENGTH + 1)})
    assert response.status_code == 413


# --- Uploads that are accepted --------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode", "extension"),
    [("JPEG", "RGB", "jpg"), ("PNG", "RGB", "png"), ("PNG", "RGBA", "png"), ("WEBP", "RGB", "webp")],
)
def test_real_images_are_saved_under_media_root(editor_client, media_root, settings, fmt, mode, extension):
    response = upload(editor_client, image_bytes(fmt, mode=mode), name=f"holiday.{extension}")
    path, image = saved_image(response, media_root)
    assert image.format == fmt
    assert image.size == (64, 48)
    assert path.suffix == f".{extension}"
    assert path.is_relative_to(media_root / "uploads")
    assert response.json()["image_code"] == f"![]({settings.MEDIA_URL}{path.relative_to(media_root)})"


def test_the_extension_follows_the_content_not_the_name(editor_client, media_root):
    response = upload(editor_client, image_bytes("JPEG"), name="photo.png", content_type="image/png")
    path, image = saved_image(response, media_root)
    assert image.format == "JPEG" and path.suffix == ".jpg"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_metadata_and_trailing_bytes_are_dropped(editor_client, media_root, fmt):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam-Make"  # camera make
    exif[0x0131] = "Secret-Software"
    options = {
        "exif": exif.tobytes(),
        "icc_profile": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    }
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "Secret-Comment")
        options["pnginfo"] = info
    if fmt == "WEBP":
        options["xmp"] = b"<x:xmpmeta>Secret-XMP</x:xmpmeta>"
    original = image_bytes(fmt, **options)
    assert b"SpyCam" in original
    payload = original + b"<html><script>alert('smuggled')</script></html>"

    path, image = saved_image(upload(editor_client, payload), media_root)
    stored = path.read_bytes()
    for secret in (b"SpyCam", b"Secret", b"smuggled", b"<script"):
        assert secret not in stored
    assert not dict(image.getexif())
    assert "icc_profile" not in image.info
    assert image.size == (64, 48)


def test_exif_orientation_is_applied_before_it_is_stripped(editor_client, media_root):
    """A phone photo taken upright (stored sideways plus an Orientation tag) stays upright."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = image_bytes("JPEG", size=(80, 40), exif=exif.tobytes())
    _path, image = saved_image(upload(editor_client, data, name="phone.jpg"), media_root)
    assert image.size == (40, 80)
    assert 0x0112 not in image.getexif()


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_malformed_exif_is_dropped_without_an_error(editor_client, media_root, fmt):
    """A text value under a numeric tag made Pillow's exif_transpose raise (a 500) on re-save."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate to display
    exif[0x010F] = "Make"
    raw = exif.tobytes()
    entry = raw.index(b"\x01\x0f\x00\x02")  # Make (0x010F), type ASCII, big-endian IFD
    broken = raw[:entry] + b"\x01\x09\x00\x02" + raw[entry + 4 :]  # now tag 0x0109, a SHORT
    data = image_bytes(fmt, size=(80, 40), exif=broken)
    _path, image = saved_image(upload(editor_client, data, name="odd.jpg"), media_root)
    assert image.size == (40, 80)
    assert not dict(image.getexif())


def test_large_images_are_downscaled(editor_client, media_root, settings):
    settings.MARKDOWNX_IMAGE_MAX_SIZE = {"size": (100, 100), "quality": 80}
    _path, image = saved_image(upload(editor_client, image_bytes("PNG", size=(300, 200))), media_root)
    assert image.size == (100, 67)


def test_palette_png_with_transparency_keeps_it(editor_client, media_root):
    data = image_bytes("PNG", mode="P", transparency=0)
    _path, image = saved_image(upload(editor_client, data), media_root)
    assert image.mode == "RGBA"
    assert image.getpixel((63, 0))[3] == 0


# --- Uploads that are refused ---------------------------------------------------------


def _assert_refused(response, media_root, message: str):
    assert response.status_code == 400, response.content
    body = response.json()
    assert "image_code" not in body
    assert any(message in error for error in body["image"]), body
    assert saved_files(media_root) == []


def test_a_text_file_named_png_is_refused(editor_client, media_root):
    response = upload(editor_client, b"just some text, honestly\n" * 20, name="notes.png")
    _assert_refused(response, media_root, "not a valid image")


def test_a_gif_is_refused(editor_client, media_root):
    response = upload(editor_client, image_bytes("GIF", mode="L"), name="anim.gif", content_type="image/gif")
    _assert_refused(response, media_root, "Only JPEG, PNG and WebP")


def test_an_svg_with_script_is_refused(editor_client, media_root):
    svg = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
    )
    response = upload(editor_client, svg, name="logo.svg", content_type="image/svg+xml")
    _assert_refused(response, media_root, "not a valid image")
    response = upload(editor_client, svg, name="logo.png", content_type="image/png")
    _assert_refused(response, media_root, "not a valid image")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_refused(editor_client, media_root, fmt):
    data = image_bytes(fmt, size=(200, 150))
    response = upload(editor_client, data[: len(data) * 2 // 3])
    _assert_refused(response, media_root, "not a valid image")


def test_a_corrupt_png_is_refused(editor_client, media_root):
    data = bytearray(image_bytes("PNG", size=(200, 150)))
    data[60:80] = b"\xff" * 20  # inside the IDAT chunk: the checksum no longer matches
    _assert_refused(upload(editor_client, bytes(data)), media_root, "not a valid image")


def test_an_oversized_file_is_refused(editor_client, media_root, settings):
    settings.MARKDOWNX_UPLOAD_MAX_SIZE = 1024
    data = image_bytes("PNG", size=(400, 300))
    assert len(data) > 1024
    _assert_refused(upload(editor_client, data), media_root, "larger than")


def test_too_many_pixels_is_refused(editor_client, media_root):
    data = png_bomb(8_000, 8_000)  # 64 megapixels in a few kilobytes
    assert len(data) < 100_000
    _assert_refused(upload(editor_client, data), media_root, "too many pixels")


def test_a_small_file_that_would_take_hundreds_of_megabytes_is_refused(editor_client, media_root):
    """6300 x 6300 RGBA: about 160 KB sent, 160 MB decoded (and twice that while it is
    scaled down). Refused before it is decoded, with the limit in the message."""
    data = png_bomb(6_300, 6_300, rgba=True)
    assert len(data) < 300_000
    _assert_refused(upload(editor_client, data), media_root, "too many pixels")


def test_the_pixel_limit_is_a_setting(editor_client, media_root, settings):
    settings.BLOG_UPLOAD_MAX_PIXELS = 100 * 100
    _assert_refused(upload(editor_client, image_bytes("PNG", size=(101, 100))), media_root, "too many pixels")
    assert upload(editor_client, image_bytes("PNG", size=(100, 100))).status_code == 200


def test_a_very_long_file_name_gets_a_json_error_the_editor_can_show(editor_client, media_root):
    """As a browser sends it: the part's headers pass Django's 1 KB limit."""
    boundary = "----blog-test"
    name = "照片" * 400 + ".png"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + image_bytes("PNG")
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = editor_client.generic(
        "POST",
        UPLOAD,
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert response.status_code == 400
    assert "file name is too long" in response.json()["error"]
    assert saved_files(media_root) == []


def test_a_decompression_bomb_is_refused(editor_client, media_root):
    data = png_bomb(20_000, 20_000)  # 400 megapixels: Pillow's own bomb limit
    assert len(data) < 200_000
    _assert_refused(upload(editor_client, data), media_root, "not a valid image")


def test_a_missing_file_is_a_clear_error(editor_client, media_root):
    response = editor_client.post(UPLOAD, {})
    assert response.status_code == 400
    assert response.json()["image"]
    assert saved_files(media_root) == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # a mangled header; refused
def test_mangled_images_never_cause_a_500(editor_client, media_root):
    """Random byte flips, cuts and insertions in real images: each is saved or refused."""
    rng = random.Random(20240601)
    originals = [image_bytes(fmt, size=(40, 30)) for fmt in ("JPEG", "PNG", "WEBP")]
    statuses = {200: 0, 400: 0}
    for attempt in range(90):
        data = bytearray(originals[attempt % 3])
        if attempt % 3 == 0:
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif attempt % 3 == 1:
            data = data[: rng.randrange(8, len(data))]
        else:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randint(1, 24))
        response = upload(editor_client, bytes(data))
        assert response.status_code in statuses, (attempt, response.status_code)
        statuses[response.status_code] += 1
        if response.status_code == 200:
            saved_image(response, media_root)  # a real, readable image
    assert statuses[200] and statuses[400]


def test_uploaded_image_code_renders_in_the_preview(editor_client, media_root):
    code = upload(editor_client, image_bytes("WEBP")).json()["image_code"]
    preview = editor_client.post(PREVIEW, {"content": code}).content.decode()
    url = code[4:-1]
    assert re.search(rf'<img [^>]*src="{re.escape(url)}"', preview)
