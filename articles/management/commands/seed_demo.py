"""``manage.py seed_demo``: fill a realistic, bilingual demo blog, idempotently.

Every row is looked up by its slug (widgets by kind and title) and only written when it
differs from the designed state, so running the command again changes nothing, and running
it after editing demo rows puts them back. Content is put together by a seeded
``random.Random`` from hand-written pieces (``articles/management/demo_content.py``), so the
same seed always gives the same blog; dates count back from the start of today.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from articles import registry
from articles.management import demo_content as content
from articles.models import Article, Category, Page, SidebarWidget, SiteSettings, Tag

M = TypeVar("M", bound=models.Model)
DEMO_USERNAME = "demo"
DEMO_MEDIA_FOLDER = "demo"
HISTORY_DAYS = 425  # about 14 months
# Positions with a special role (only those below --articles exist).
PINNED, SCHEDULED, DRAFTS = 0, 3, (4, 7)


@dataclass(frozen=True)
class ArticlePlan:
    slug: str
    fields: dict
    tag_slugs: tuple[str, ...]


class Command(BaseCommand):
    help = "Fill the blog with demo content (idempotent: running it again changes nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--articles", type=int, default=50, help="How many articles (default 50).")
        parser.add_argument("--seed", type=int, default=2024, help="Random seed for the article bodies.")
        parser.add_argument(
            "--password",
            help=f"Password for a newly created “{DEMO_USERNAME}” user (default: unusable; an "
            "existing user's password is never changed).",
        )

    def handle(self, *args, articles: int, seed: int, password: str | None, verbosity: int, **options):
        if not 0 <= articles <= 10_000:
            raise CommandError("--articles must be between 0 and 10000.")
        rng = random.Random(seed)  # noqa: S311 - reproducible demo text, not security
        images = _write_images()
        plans = [_plan_article(index, articles, rng, images) for index in range(articles)]
        written = 0
        with (
            tqdm(total=len(plans) + 5, desc="Seeding demo", unit="row", disable=verbosity == 0) as bar,
            transaction.atomic(),
        ):
            author = self._author(password)
            categories = _seed_categories()
            tags = _seed_tags()
            bar.update(2)
            for plan in plans:
                written += _seed_article(plan, author=author, categories=categories, tags=tags)
                bar.update(1)
            _seed_pages()
            _seed_site_settings()
            _seed_widgets()
            bar.update(3)
        if verbosity:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo blog ready: {len(plans)} articles ({written} written, "
                    f"{len(plans) - written} unchanged), {len(content.CATEGORIES)} categories, "
                    f"{len(content.TAGS)} tags, {len(content.PAGES)} pages, {len(content.WIDGETS)} widgets. "
                    f"Images under {default_storage.url(DEMO_MEDIA_FOLDER + '/')}."
                )
            )

    def _author(self, password: str | None):
        User = get_user_model()
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is not None:
            if password:
                self.stderr.write(f"User “{DEMO_USERNAME}” exists already; its password was left unchanged.")
            return user
        user = User(username=DEMO_USERNAME, email="demo@example.com", is_staff=True, first_name="Demo")
        if password:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean()
        user.save()
        return user


def _upsert(model: type[M], lookup: dict, fields: dict) -> tuple[M, bool]:
    """Bring one row to ``fields``; returns (row, written). Unchanged rows are not saved."""
    row = model._default_manager.filter(**lookup).first()
    if row is not None and all(getattr(row, name) == value for name, value in fields.items()):
        return row, False
    row = row or model(**lookup)
    for name, value in fields.items():
        setattr(row, name, value)
    try:
        row.full_clean()
    except ValidationError as exc:  # e.g. an existing row already uses a demo name
        label = f"{model._meta.verbose_name} {next(iter(lookup.values()))!r}"
        raise CommandError(f"Cannot write the demo {label}: {'; '.join(exc.messages)}") from exc
    row.save()
    return row, True


def _seed_categories() -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for slug, name, parent, order, description in content.CATEGORIES:
        fields = {
            "name": name,
            "parent_id": categories[parent].pk if parent else None,
            "order": order,
            "description": description,
            "is_hidden": False,
        }
        categories[slug], _written = _upsert(Category, {"slug": slug}, fields)
    return categories


def _seed_tags() -> dict[str, Tag]:
    return {slug: _upsert(Tag, {"slug": slug}, {"name": name})[0] for slug, name in content.TAGS}


def _plan_article(index: int, total: int, rng: random.Random, images: list[str]) -> ArticlePlan:
    chinese = index % 2 == 1
    topics = content.ZH_TOPICS if chinese else content.EN_TOPICS
    topic = topics[(index // 2) % len(topics)]
    round_ = (index // 2) // len(topics)  # beyond the hand-written titles, number the repeats
    title = topic.title if not round_ else f"{topic.title} ({round_ + 1})"
    slug = slugify(title, allow_unicode=True)[:190]

    if index == PINNED:
        # The tour names its image under /media/; media may be served from elsewhere.
        summary = content.TOUR_SUMMARY
        body = content.TOUR_BODY.replace(f"(/media/{DEMO_MEDIA_FOLDER}/", f"({images[0].rsplit('/', 1)[0]}/")
    else:
        voice = content.CHINESE if chinese else content.ENGLISH
        summary, body = _compose_body(topic, voice=voice, rng=rng, images=images)
    start_of_today = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    if index == SCHEDULED:
        published_at = start_of_today + timedelta(days=7, hours=9)
    else:
        # Spread over ~14 months; at least a day back, so nothing lands in the future.
        days_back = 1 + index * HISTORY_DAYS // max(total, 1) + rng.randint(0, 2)
        published_at = start_of_today - timedelta(
            days=days_back, hours=-rng.randint(7, 22), minutes=-rng.randint(0, 59)
        )
    fields = {
        "title": title,
        "body": body,
        "summary": summary,
        "category_id": None,  # filled in at seeding time
        "source": topic.source,
        "source_url": topic.source_url,
        "status": Article.Status.DRAFT if index in DRAFTS else Article.Status.PUBLISHED,
        "published_at": published_at,
        "is_pinned": index == PINNED,
        "allow_comments": index % 9 != 8,
    }
    return ArticlePlan(slug=slug, fields={**fields, "_category": topic.category}, tag_slugs=topic.tags)


_CJK_THEN_LATIN = re.compile(r"([\u4e00-\u9fff])([A-Za-z0-9`])")
_LATIN_THEN_CJK = re.compile(r"([A-Za-z0-9`])([\u4e00-\u9fff])")


def _spaced(text: str) -> str:
    """Chinese typesetting: a space between Han characters and Latin words."""
    return _LATIN_THEN_CJK.sub(r"\1 \2", _CJK_THEN_LATIN.sub(r"\1 \2", text))


def _compose_body(
    topic: content.Topic, *, voice: content.Voice, rng: random.Random, images: list[str]
) -> tuple[str, str]:
    """(summary, body) of one generated article."""

    def fill(template: str) -> str:
        text = template.format(subject=topic.subject)
        return _spaced(text) if voice is content.CHINESE else text

    def para() -> str:
        return fill(rng.choice(voice.paragraphs))

    def code(language: str) -> str:
        return f"```{language}\n{rng.choice(content.CODE[language])}\n```"

    intro = fill(rng.choice(voice.intros))
    section_titles = rng.sample(voice.headings, 3)
    blocks = [intro, f"## {section_titles[0]}", para(), para()]
    blocks.append("\n".join(f"- {item}" for item in rng.sample(voice.list_items, rng.randint(3, 5))))
    blocks += [f"## {section_titles[1]}", para(), code(topic.code)]
    if topic.extra and rng.random() < 0.6:
        blocks += [para(), code(rng.choice(topic.extra))]
    if rng.random() < 0.3:
        position = rng.randrange(len(content.IMAGES))
        caption = content.IMAGES[position][voice.caption]
        blocks.append(f"![{caption}]({images[position]})\n\n*{caption}*")
    blocks += [f"### {section_titles[2]}", para(), rng.choice(voice.tables)]
    if rng.random() < 0.35:
        blocks.append("> " + rng.choice(voice.quotes))
    if rng.random() < 0.3:
        tasks = rng.sample(voice.tasks, 3)
        checks = [("x" if rng.random() < 0.5 else " ") for _task in tasks]
        blocks += [
            f"### {voice.checklist_heading}",
            "\n".join(f"- [{mark}] {task}" for mark, task in zip(checks, tasks, strict=True)),
        ]
    blocks.append("\n".join(f"{n}. {step}" for n, step in enumerate(rng.sample(voice.list_items, 3), 1)))
    footnote = rng.random() < 0.3
    blocks += [
        f"## {rng.choice(voice.closing_headings)}",
        rng.choice(voice.closings) + ("[^1]" if footnote else ""),
    ]
    if footnote:
        blocks.append(f"[^1]: {rng.choice(voice.footnotes)}")
    return intro, "\n\n".join(blocks) + "\n"


def _seed_article(plan: ArticlePlan, *, author, categories: dict[str, Category], tags: dict[str, Tag]) -> int:
    fields = dict(plan.fields)
    fields["category_id"] = categories[fields.pop("_category")].pk
    existing = Article.objects.filter(slug=plan.slug).first()
    # The author of an existing demo article is kept (an editor may have taken it over).
    fields["author_id"] = existing.author_id if existing else author.pk
    article, written = _upsert(Article, {"slug": plan.slug}, fields)
    wanted = {tags[slug].pk for slug in plan.tag_slugs}
    if set(article.tags.values_list("pk", flat=True)) != wanted:
        article.tags.set(wanted)
        written = True
    return int(written)


def _seed_pages() -> None:
    for slug, title, body, show_in_nav, order in content.PAGES:
        _upsert(
            Page,
            {"slug": slug},
            {"title": title, "body": body, "show_in_nav": show_in_nav, "order": order, "is_published": True},
        )


def _seed_site_settings() -> None:
    SiteSettings.load()
    _upsert(SiteSettings, {"pk": 1}, content.SITE)


def _seed_widgets() -> None:
    # Demo widgets of earlier versions, found under their old titles (so none is doubled).
    for (kind, old_title), title in content.RENAMED_WIDGETS.items():
        SidebarWidget.objects.filter(kind=kind, title=old_title).update(title=title)
    for kind, title, body, item_count, order in content.WIDGETS:
        if registry.widget_kind(kind) is None:  # an optional app's kind, and the app is not installed
            continue
        _upsert(
            SidebarWidget,
            {"kind": kind, "title": title},
            {"body": body, "item_count": item_count, "order": order, "enabled": True},
        )


def _write_images() -> list[str]:
    """Draw the demo images (small, deterministic) into the media storage unless they are
    there already; their URLs. Through default_storage, so they land where uploads do (a
    bucket on Kubernetes, MEDIA_ROOT otherwise)."""
    drawers = {
        "mountains.webp": _mountains,
        "latency-chart.png": _chart,
        "cache-diagram.png": _diagram,
        "desk.webp": _desk,
    }
    urls = []
    for name, _english, _chinese in content.IMAGES:
        stored = f"{DEMO_MEDIA_FOLDER}/{name}"
        if not default_storage.exists(stored):
            buffer = io.BytesIO()
            image = drawers[name]()
            if name.endswith(".webp"):
                image.save(buffer, format="WEBP", quality=80)
            else:
                image.save(buffer, format="PNG", optimize=True)
            default_storage.save(stored, ContentFile(buffer.getvalue()))
        urls.append(default_storage.url(stored))
    return urls


def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(height - 1, 1)
        draw.line(
            [(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    return image


def _mountains() -> Image.Image:
    image = _gradient((960, 540), (255, 179, 102), (92, 72, 140))
    draw = ImageDraw.Draw(image)
    draw.ellipse((640, 140, 740, 240), fill=(255, 236, 180))
    for base, colour in ((330, (70, 60, 110)), (400, (45, 40, 80)), (460, (25, 24, 50))):
        points = (
            [(0, 540)]
            + [(x, base - (60 if (x // 120) % 2 else 0) - (x * 7 % 53)) for x in range(0, 1000, 60)]
            + [(960, 540)]
        )
        draw.polygon(points, fill=colour)
    return image


def _chart() -> Image.Image:
    image = Image.new("RGB", (800, 450), (250, 250, 248))
    draw = ImageDraw.Draw(image)
    draw.line([(60, 400), (760, 400)], fill=(60, 60, 60), width=2)
    draw.line([(60, 40), (60, 400)], fill=(60, 60, 60), width=2)
    before = [240, 230, 260, 250, 245, 270]
    after = [64, 58, 61, 60, 55, 59]
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        x = 90 + i * 110
        draw.rectangle((x, 400 - b * 1.3, x + 40, 400), fill=(200, 90, 80))
        draw.rectangle((x + 45, 400 - a * 1.3, x + 85, 400), fill=(60, 140, 90))
    draw.text(
        (80, 12), "p95 latency (ms): before vs after", fill=(30, 30, 30), font=ImageFont.load_default(22)
    )
    return image


def _diagram() -> Image.Image:
    image = Image.new("RGB", (900, 300), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    boxes = [("browser", 30), ("nginx", 250), ("page cache", 470), ("Django", 690)]
    for label, x in boxes:
        draw.rounded_rectangle(
            (x, 110, x + 180, 190), radius=14, outline=(40, 90, 160), width=3, fill=(232, 240, 252)
        )
        draw.text((x + 20, 136), label, fill=(20, 40, 80), font=ImageFont.load_default(24))
    for _label, x in boxes[:-1]:
        draw.line([(x + 180, 150), (x + 220, 150)], fill=(40, 40, 40), width=3)
        draw.polygon([(x + 220, 150), (x + 208, 143), (x + 208, 157)], fill=(40, 40, 40))
    return image


def _desk() -> Image.Image:
    image = _gradient((800, 533), (214, 196, 170), (150, 120, 90))
    draw = ImageDraw.Draw(image)
    draw.rectangle((180, 120, 620, 380), fill=(35, 35, 40))
    draw.rectangle((195, 135, 605, 365), fill=(24, 48, 72))
    for row in range(8):
        draw.line(
            [(215, 160 + row * 24), (215 + (row * 53 % 300) + 60, 160 + row * 24)],
            fill=(120, 200, 160),
            width=6,
        )
    draw.rectangle((250, 420, 550, 470), fill=(60, 60, 66))
    draw.ellipse((650, 380, 740, 470), fill=(240, 240, 235))
    return image
