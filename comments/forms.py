"""The reader's comment form: fields, the spam traps, and the reply target."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxLengthValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from articles.markdown import Profile, render_markdown
from articles.models import Article

from . import conf, spam
from .models import NAME_MAX_LENGTH, Comment, single_line, visible_name

HONEYPOT_FIELD = "homepage"

STAMP_MESSAGES = {
    "missing": _("The form was incomplete. Please send your comment again."),
    "invalid": _("The form was damaged in transit. Please send your comment again."),
    "too_fast": _("That was quick! Please take a moment to read your comment, then send it again."),
    "expired": _("This form was opened too long ago. Please send your comment again."),
    "elsewhere": _(
        "This form was opened from another network (or your connection changed). Please send your "
        "comment again."
    ),
    "spent": _(
        "This form was already used for a comment. If yours does not show below, please send it again."
    ),
}


class CommentForm(forms.Form):
    author_name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        validators=[single_line, visible_name],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    author_email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("Never shown. Used for your Gravatar and, if you ask, reply notifications."),
        validators=[single_line],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    author_url = forms.URLField(
        label=_("Website"),
        required=False,
        max_length=200,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"]), single_line],
        widget=forms.URLInput(attrs={"autocomplete": "url", "placeholder": "https://"}),
    )
    body = forms.CharField(
        label=_("Comment"),
        help_text=_("Markdown: *emphasis*, **bold**, `code`, links, lists and quotes."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    notify_on_reply = forms.BooleanField(label=_("E-mail me replies"), required=False)
    remember = forms.BooleanField(
        label=_("Remember my name and e-mail in this browser"),
        help_text=_("Only if ticked: a cookie keeps them here for a year. Untick it to forget them."),
        required=False,
        widget=forms.CheckboxInput(attrs={"aria-describedby": "remember-help"}),
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    stamp = forms.CharField(required=False, widget=forms.HiddenInput)
    # The honeypot: hidden from people (CSS and aria-hidden), irresistible to form-filling bots.
    homepage = forms.CharField(label=_("Leave this field empty"), required=False)

    def __init__(self, *args, article: Article, client_key: str = "", **kwargs) -> None:
        """``client_key``: the poster's ``spam.client_network_key`` (the stamp must have been
        shown to the same network)."""
        super().__init__(*args, **kwargs)
        self.article = article
        self.client_key = client_key
        self.parent_comment: Comment | None = None
        max_length = conf.get("COMMENTS_MAX_LENGTH")
        body = self.fields["body"]
        assert isinstance(body, forms.CharField)
        body.max_length = max_length
        body.widget.attrs["maxlength"] = max_length
        body.validators.append(MaxLengthValidator(max_length))
        self.fields[HONEYPOT_FIELD].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_author_email(self) -> str:
        return self.cleaned_data["author_email"].strip().lower()

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError(_("The comment is empty."), code="required")
        links = render_markdown(body, profile=Profile.COMMENT).html.count("<a ")
        max_links = conf.get("COMMENTS_MAX_LINKS")
        if links > max_links:
            raise forms.ValidationError(
                _("Please include at most %(max)d links (this comment has %(count)d).")
                % {"max": max_links, "count": links},
                code="too_many_links",
            )
        return body

    def clean_parent(self) -> int | None:
        number = self.cleaned_data.get("parent")
        if number is None:
            return None
        parent = Comment.objects.filter(pk=number).only("pk", "article_id", "status", "thread_number").first()
        if parent is None:
            raise forms.ValidationError(
                _("The comment you are replying to does not exist."), code="no_parent"
            )
        if parent.article_id != self.article.pk:
            raise forms.ValidationError(
                _("You can only reply to a comment on this article."), code="other_article"
            )
        if parent.status != Comment.Status.APPROVED:
            raise forms.ValidationError(
                _("The comment you are replying to is not published (any more)."), code="unapproved_parent"
            )
        self.parent_comment = parent
        return number

    def clean(self) -> dict:
        data = super().clean()
        assert data is not None  # Form.clean() returns cleaned_data
        if data.get(HONEYPOT_FIELD):
            raise forms.ValidationError(
                _("Your comment was not posted: a field meant to stay empty was filled in."), code="honeypot"
            )
        try:
            spam.check_stamp(self.data.get("stamp", ""), client_key=self.client_key)
        except spam.StampError as exc:
            raise forms.ValidationError(STAMP_MESSAGES[exc.code], code=f"stamp_{exc.code}") from exc
        return data
