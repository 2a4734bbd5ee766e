"""Small exports written by tests, for what the real fixtures do not hold."""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def wxr(items: str, *, extra_channel: str = "") -> str:
    """A minimal WordPress export around ``items``."""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>T</title><link>https://old.example.com</link>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://old.example.com</wp:base_site_url>
<wp:author><wp:author_id>1</wp:author_id><wp:author_login>bob</wp:author_login>
<wp:author_email>bob@example.com</wp:author_email></wp:author>
{extra_channel}{items}</channel></rss>"""


def wxr_post(
    post_id: int,
    *,
    title: str = "A post",
    slug: str = "a-post",
    status: str = "publish",
    date_gmt: str = "2020-01-02 03:04:05",  # fixed date: an old post's own date, in the past any day
    content: str = "Hello.",
    comments: str = "",
) -> str:
    return f"""<item><title>{title}</title>
<link>https://old.example.com/2020/01/02/{slug}/</link><dc:creator>bob</dc:creator>
<content:encoded><![CDATA[{content}]]></content:encoded><excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{post_id}</wp:post_id><wp:post_date>{date_gmt}</wp:post_date><wp:post_date_gmt>{date_gmt}</wp:post_date_gmt>
<wp:comment_status>open</wp:comment_status><wp:post_name>{slug}</wp:post_name><wp:status>{status}</wp:status>
<wp:post_parent>0</wp:post_parent><wp:menu_order>0</wp:menu_order><wp:post_type>post</wp:post_type>
<wp:post_password></wp:post_password><wp:is_sticky>0</wp:is_sticky>{comments}</item>"""


def wxr_comment(comment_id: int, *, parent: int = 0, approved: str = "1", text: str = "Nice.") -> str:
    return f"""<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>
<wp:comment_author>Reader {comment_id}</wp:comment_author>
<wp:comment_author_email>r{comment_id}@example.com</wp:comment_author_email>
<wp:comment_author_url>https://r.example.com</wp:comment_author_url>
<wp:comment_date_gmt>2020-01-03 00:00:{comment_id:02d}</wp:comment_date_gmt>
<wp:comment_content><![CDATA[{text}]]></wp:comment_content>
<wp:comment_approved>{approved}</wp:comment_approved><wp:comment_type>comment</wp:comment_type>
<wp:comment_parent>{parent}</wp:comment_parent><wp:comment_user_id>0</wp:comment_user_id></wp:comment>"""
