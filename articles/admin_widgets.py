"""The writing room's widgets and fields: the Markdown editor (toolbar, reader-styled
preview), the featured-image picker, tags typed or chosen (new ones created on save), and
the browser's own date-time control in the site's zone."""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.templatetags.static import static
from django.utils.translation import gettext
from markdownx.widgets import AdminMarkdownxWidget

from .models import MediaFile, Tag

NEW_TAG_PREFIX = "new:"


class MarkdownEditorWidget(AdminMarkdownxWidget):
    """markdownx's textarea in the writing room: toolbar, upload button, preview beside it
    (reader-styled, see ``static/editor/editor.js``)."""

    template_name = "admin/editor/markdown_widget.html"
    # The preview is styled by the reader's own stylesheets (inside a shadow root, so they
    # style nothing else); preview.css only gives it the page's body font and colours.
    reader_css = ("css/blog.css", "css/pygments.css", "editor/preview.css")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["reader_css"] = [static(path) for path in self.reader_css]
        return context

    class Media:
        # Not markdownx's admin stylesheet: it sizes the preview and styles it like the admin.
        extend = False
        css = {"all": ("editor/editor.css",)}
        js = ("markdownx/js/markdownx.min.js", "editor/editor.js")


class FeaturedImageWidget(forms.Widget):
    """The chosen media file's thumbnail with "Choose…" and "Remove" (the library dialog)."""

    template_name = "admin/editor/featured_image_widget.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        media = None
        if value and str(value).isdigit():
            media = MediaFile.objects.filter(pk=value).first()
        context["widget"]["media"] = media
        return context


class TagsWidget(AutocompleteSelectMultiple):
    """The admin's tag autocomplete, where a tag that does not exist can be typed too
    (``editor.js`` starts Select2 with tagging; new ones arrive as ``new:<name>``)."""

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        # Not "admin-autocomplete": Django's script would start it without tagging.
        attrs["class"] = attrs["class"].replace("admin-autocomplete", "editor-tags-autocomplete")
        attrs["data-new-prefix"] = NEW_TAG_PREFIX
        return attrs

    def optgroups(self, name, value, attr=None):
        value = [str(v) for v in value or []]
        new = [v for v in value if v.startswith(NEW_TAG_PREFIX)]
        groups = super().optgroups(name, [v for v in value if not v.startswith(NEW_TAG_PREFIX)], attr)
        for index, raw in enumerate(new, start=len(groups[0][1]) if groups else 0):
            option = self.create_option(name, raw, raw.removeprefix(NEW_TAG_PREFIX), True, index)
            groups[0][1].append(option)
        return groups


class TagsField(forms.ModelMultipleChoiceField):
    """Existing tags by id, plus names typed as ``new:<name>`` (created on save)."""

    def clean(self, value):
        value = [str(v) for v in value or []]
        names = [
            " ".join(v.removeprefix(NEW_TAG_PREFIX).split()) for v in value if v.startswith(NEW_TAG_PREFIX)
        ]
        existing = super().clean([v for v in value if not v.startswith(NEW_TAG_PREFIX)])
        self.new_names = []
        max_length = Tag._meta.get_field("name").max_length
        for name in dict.fromkeys(n for n in names if n):
            if len(name) > max_length:
                raise ValidationError(
                    gettext("Tag names have at most %(n)s characters.") % {"n": max_length}, code="max_length"
                )
            self.new_names.append(name)
        return existing


class DateTimeLocalInput(forms.DateTimeInput):
    """One labelled date-and-time control (the browser's own picker), in the editor's zone."""

    input_type = "datetime-local"
    value_format = "%Y-%m-%dT%H:%M:%S"
    input_formats = [value_format, "%Y-%m-%dT%H:%M"]

    def __init__(self, attrs=None):
        super().__init__(attrs={"step": "1", **(attrs or {})}, format=self.value_format)

    def value_from_datadict(self, data, files, name):
        if name not in data and f"{name}_0" in data:
            # The admin's former split boxes (date, time): older scripts and forms still post them.
            return f"{data.get(f'{name}_0', '')} {data.get(f'{name}_1', '')}".strip()
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_0" not in data
