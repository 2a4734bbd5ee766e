"""The comment form: every field rule, the spam traps and the reply target, with clear messages."""

import pytest

from comments.forms import CommentForm
from comments.models import Comment
from comments.tests.conftest import aged_stamp, client_key, form_data
from comments.tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


def _form(article, **overrides) -> CommentForm:
    return CommentForm(form_data(**overrides), article=article, client_key=client_key())


def test_valid_form_normalises_the_address(article):
    form = _form(article, author_email="  Ada@Example.COM ", author_url="ada.example")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["author_email"] == "ada@example.com"
    assert form.cleaned_data["author_url"] == "https://ada.example"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("body", "", "This field is required."),
        ("body", " \n\t ", "This field is required."),
        ("body", "x" * 5001, "Ensure this value has at most 5000 characters (it has 5001)."),
        ("author_email", "ada@", "Enter a valid email address."),
        ("author_email", "ada@example.com\r\nBcc: all@example.com", "Enter a valid email address."),
        ("author_name", "Ada\r\nBcc: all@example.com", "Use a single line without control characters."),
        ("author_name", "", "This field is required."),
        ("author_name", "x" * 51, "Ensure this value has at most 50 characters (it has 51)."),
        ("author_url", "javascript:alert(1)", "Enter a valid URL."),
        ("author_url", "https://example.com/\nx", "Enter a valid URL."),
    ],
)
def test_bad_fields_get_clear_messages(article, field, value, message):
    form = _form(article, **{field: value})
    assert not form.is_valid()
    assert message in form.errors[field]


def test_link_count_is_limited(article, settings):
    settings.COMMENTS_MAX_LINKS = 2
    assert _form(article, body="[a](https://a.example) and https://b.example").is_valid()
    form = _form(article, body="https://a.example https://b.example [c](http://c.example)")
    assert not form.is_valid()
    assert form.errors["body"] == ["Please include at most 2 links (this comment has 3)."]


def test_honeypot_refuses_with_a_message(article):
    form = _form(article, homepage="http://spam.example")
    assert not form.is_valid()
    assert "a field meant to stay empty was filled in" in form.non_field_errors()[0]


@pytest.mark.parametrize(
    ("stamp", "fragment"),
    [
        (lambda: None, "The form was incomplete"),
        (lambda: "forged", "damaged in transit"),
        (lambda: aged_stamp(0.5), "That was quick!"),
        (lambda: aged_stamp(3 * 24 * 3600), "opened too long ago"),
    ],
)
def test_stamp_refusals_are_explained(article, stamp, fragment):
    form = _form(article, stamp=stamp())
    assert not form.is_valid()
    assert fragment in " ".join(form.non_field_errors())


def test_parent_must_exist_be_approved_and_belong_here(article):
    ok = CommentFactory(article=article)
    form = _form(article, parent=ok.pk)
    assert form.is_valid() and form.parent_comment == ok
    cases = {
        ok.pk + 1000: "does not exist",
        CommentFactory().pk: "only reply to a comment on this article",
        CommentFactory(article=article, status=Comment.Status.PENDING).pk: "not published",
        CommentFactory(article=article, status=Comment.Status.REMOVED).pk: "not published",
        "abc": "Enter a whole number.",
        "-3": "greater than or equal to 1",
    }
    for parent, fragment in cases.items():
        form = _form(article, parent=parent)
        assert not form.is_valid()
        assert fragment in " ".join(form.errors["parent"]), parent
