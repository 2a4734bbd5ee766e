// The writing room of the admin's article and page forms (templates/admin/editor/).
// markdownx does the preview requests; this adds: the reader-styled preview (a shadow root
// with the site's own CSS), toolbar shortcuts, uploads with alt text (button, drop, paste)
// and the media library, autosave with recovery, the unsaved-changes warning, the
// automatic-summary switch, typed new tags and the featured image picker.
// Data comes from data- attributes and json_script: no inline script (CSP).
(function () {
  "use strict";

  var root, form, csrfToken, dialog;

  function $(selector, scope) { return (scope || document).querySelector(selector); }
  function $all(selector, scope) { return Array.prototype.slice.call((scope || document).querySelectorAll(selector)); }
  // Django's JavaScript catalogue (the admin's jsi18n, loaded before this script).
  function gettext(text) { return window.gettext ? window.gettext(text) : text; }
  function ngettext(one, many, count) { return window.ngettext ? window.ngettext(one, many, count) : (count === 1 ? one : many); }
  function interpolate(format, values, named) {
    if (window.interpolate) return window.interpolate(format, values, named);
    return named ? format.replace(/%\((\w+)\)s/g, function (_m, key) { return String(values[key]); })
      : format.replace(/%s/g, function () { return String(values.shift()); });
  }
  // Dates and times in the admin's language (the page's lang), not the browser's.
  function formatTime(date, withDate) {
    var locale = document.documentElement.lang || undefined;
    var options = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
    try {
      return withDate ? date.toLocaleString(locale) : date.toLocaleTimeString(locale, options);
    } catch (error) {
      return withDate ? date.toLocaleString() : date.toLocaleTimeString();
    }
  }

  function post(url, data, options) {
    var body = data instanceof FormData ? data : new FormData();
    if (!(data instanceof FormData)) Object.keys(data || {}).forEach(function (k) { body.append(k, data[k]); });
    return fetch(url, Object.assign({
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, "X-Requested-With": "XMLHttpRequest" }
    }, options || {}));
  }

  // --- The preview: shown in a shadow root, styled by the reader's stylesheets ----------------

  function setUpPreview(room) {
    var host = $(".markdownx-preview", room);
    if (!host || host.shadowRoot) return;
    var shadow = host.attachShadow({ mode: "open" });
    (host.dataset.readerCss || "").split(/\s+/).filter(Boolean).forEach(function (href) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      shadow.appendChild(link);
    });
    var body = document.createElement("div");
    body.className = "md reader-preview";
    body.setAttribute("part", "body");
    shadow.appendChild(body);
    // markdownx writes the rendered HTML into the host; move it into the styled body.
    function show(html) {
      body.innerHTML = html;
      host.replaceChildren();
      room.dispatchEvent(new CustomEvent("editor:preview", { bubbles: true }));
    }
    if (host.innerHTML.trim()) show(host.innerHTML);
    room.addEventListener("markdownx.update", function (event) {
      show(event.detail && event.detail[0] !== undefined ? event.detail[0] : host.innerHTML);
    });
  }

  // Keep the preview at the same relative place as the text while scrolling (side by side).
  function syncScroll(room) {
    var textarea = $("textarea", room);
    var host = $(".markdownx-preview", room);
    if (!textarea || !host) return;
    textarea.addEventListener("scroll", function () {
      var range = textarea.scrollHeight - textarea.clientHeight;
      var target = host.scrollHeight - host.clientHeight;
      if (range > 0 && target > 0) host.scrollTop = (textarea.scrollTop / range) * target;
    });
  }

  // --- Toolbar shortcuts (Ctrl or Cmd + the key in each button's data-shortcut) -----------------

  function setUpShortcuts(room) {
    var textarea = $("textarea", room);
    var buttons = {};
    $all("[data-shortcut]", room).forEach(function (button) { buttons[button.dataset.shortcut] = button; });
    textarea.addEventListener("keydown", function (event) {
      if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
      var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      // Shift+8 types "*" on many layouts: use the physical digit.
      if (event.shiftKey && /^Digit\d$/.test(event.code)) key = event.code.slice(5);
      if (event.shiftKey && event.code === "Period") key = ".";
      var button = buttons[(event.shiftKey ? "shift+" : "") + key];
      if (!button) return;
      event.preventDefault();
      event.stopPropagation();
      button.click();
    }, true);
  }

  // --- Inserting text where the cursor was --------------------------------------------------------

  function insertText(textarea, selection, text) {
    textarea.focus();
    textarea.setSelectionRange(selection.start, selection.end);
    var before = textarea.value.slice(0, selection.start);
    var after = textarea.value.slice(selection.end);
    // An image on its own line reads best in Markdown and in the preview.
    var prefix = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
    var suffix = after && !/^\n/.test(after) ? "\n\n" : "";
    var insertion = prefix + text + suffix;
    // execCommand keeps the browser's undo history; the fallback does not.
    if (!document.execCommand || !document.execCommand("insertText", false, insertion)) {
      textarea.setRangeText(insertion, selection.start, selection.end, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  // --- The media dialog: upload with alt text, or pick from the library ---------------------------

  var mediaState = { mode: "insert", textarea: null, selection: null, widget: null, file: null, queue: [], page: 1, query: "" };

  function showTab(name) {
    $all("[data-media-tab]", dialog).forEach(function (tab) {
      tab.setAttribute("aria-selected", String(tab.dataset.mediaTab === name));
    });
    $all("[data-media-pane]", dialog).forEach(function (pane) { pane.hidden = pane.dataset.mediaPane !== name; });
    if (name === "library") loadLibrary(true);
    else ($("#media-alt", dialog).value && !mediaState.file ? $("#media-file", dialog) : (mediaState.file ? $("#media-alt", dialog) : $("#media-file", dialog))).focus();
  }

  function setError(message) {
    var box = $("[data-media-error]", dialog);
    box.textContent = message || "";
    box.hidden = !message;
  }

  function openMedia(options) {
    mediaState.mode = options.mode;
    mediaState.widget = options.widget || null;
    mediaState.textarea = options.textarea || null;
    if (mediaState.textarea) {
      mediaState.selection = { start: mediaState.textarea.selectionStart, end: mediaState.textarea.selectionEnd };
    }
    mediaState.file = options.file || null;
    $("#media-file", dialog).value = "";
    $("#media-alt", dialog).value = "";
    var chosen = $("[data-media-chosen]", dialog);
    chosen.hidden = !mediaState.file;
    chosen.textContent = mediaState.file ? gettext("File:") + " " + mediaState.file.name : "";
    $("#media-file", dialog).closest(".media-field").hidden = Boolean(mediaState.file);
    setError("");
    $("#media-dialog-title", dialog).textContent = options.mode === "featured" ? gettext("Featured image") : gettext("Insert an image");
    if (!dialog.open) dialog.showModal();
    showTab(options.tab || "upload");
  }

  function closeMedia() {
    if (dialog.open) dialog.close();
    var next = mediaState.queue.shift();
    if (next) openMedia(next);
  }

  function useMedia(media) {
    if (mediaState.mode === "featured" && mediaState.widget) {
      setFeatured(mediaState.widget, media);
    } else if (mediaState.textarea) {
      insertText(mediaState.textarea, mediaState.selection, media.markdown);
      var end = mediaState.textarea.selectionEnd;
      mediaState.selection = { start: end, end: end };
    }
    closeMedia();
  }

  function upload() {
    var file = mediaState.file || $("#media-file", dialog).files[0];
    if (!file) {
      setError(gettext("Choose an image first."));
      return;
    }
    var data = new FormData();
    data.append("image", file);
    data.append("alt", $("#media-alt", dialog).value);
    var button = $("[data-media-upload]", dialog);
    var progress = $("[data-media-progress]", dialog);
    button.disabled = true;
    progress.hidden = false;
    setError("");
    post(root.dataset.uploadUrl, data)
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          if (!response.ok || !json.media) {
            // Shown here, in the dialog; nothing is written into the text.
            throw new Error(json.error || (json.image && json.image.join(" ")) ||
              interpolate(gettext("The upload failed (the server answered %s)."), [response.status]));
          }
          return json.media;
        });
      })
      .then(useMedia)
      .catch(function (error) {
        setError(error.message || gettext("The upload failed. Check the connection and try again."));
      })
      .finally(function () {
        button.disabled = false;
        progress.hidden = true;
      });
  }

  function loadLibrary(reset) {
    if (reset) mediaState.page = 1;
    var grid = $("[data-media-grid]", dialog);
    var url = root.dataset.mediaUrl + "?q=" + encodeURIComponent(mediaState.query) + "&page=" + mediaState.page;
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (json) {
        if (reset) grid.replaceChildren();
        json.results.forEach(function (media) {
          var item = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          button.className = "media-tile";
          button.title = media.alt || media.name;
          var image = document.createElement("img");
          image.src = media.url;
          image.alt = "";
          image.loading = "lazy";
          var caption = document.createElement("span");
          caption.textContent = media.alt || media.name || gettext("(no description)");
          button.append(image, caption);
          button.addEventListener("click", function () { useMedia(media); });
          item.appendChild(button);
          grid.appendChild(item);
        });
        $("[data-media-empty]", dialog).hidden = grid.children.length > 0;
        $("[data-media-more]", dialog).hidden = !json.has_next;
      })
      .catch(function () { $("[data-media-empty]", dialog).hidden = false; });
  }

  function setUpMediaDialog() {
    dialog = $("#media-dialog");
    if (!dialog) return;
    $all("[data-media-tab]", dialog).forEach(function (tab) {
      tab.addEventListener("click", function () { showTab(tab.dataset.mediaTab); });
    });
    $("[data-media-close]", dialog).addEventListener("click", function () { mediaState.queue = []; closeMedia(); });
    $("[data-media-upload]", dialog).addEventListener("click", upload);
    $("#media-alt", dialog).addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); upload(); }
    });
    $("#media-file", dialog).addEventListener("change", function () { setError(""); $("#media-alt", dialog).focus(); });
    var timer;
    $("#media-search", dialog).addEventListener("input", function (event) {
      clearTimeout(timer);
      timer = setTimeout(function () { mediaState.query = event.target.value.trim(); loadLibrary(true); }, 250);
    });
    $("#media-search", dialog).addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();  // never submit the article form
    });
    $("[data-media-more]", dialog).addEventListener("click", function () { mediaState.page += 1; loadLibrary(false); });
    dialog.addEventListener("cancel", function () { mediaState.queue = []; });
  }

  function setUpUploads(room) {
    var textarea = $("textarea", room);
    $all("[data-media-open]", room).forEach(function (button) {
      button.addEventListener("click", function () {
        openMedia({ mode: "insert", textarea: textarea, tab: button.dataset.mediaOpen === "library" ? "library" : "upload" });
      });
    });
    // Capture phase, before markdownx's own handlers (which upload at once, with no alt
    // text, and write "Invalid response" into the text when the server refuses).
    function takeFiles(event, files) {
      if (!files || !files.length) return;
      event.preventDefault();
      event.stopPropagation();
      Array.prototype.forEach.call(files, function (file) {
        var options = { mode: "insert", textarea: textarea, file: file };
        if (dialog.open) mediaState.queue.push(options); else openMedia(options);
      });
    }
    room.addEventListener("drop", function (event) { takeFiles(event, event.dataTransfer && event.dataTransfer.files); }, true);
    room.addEventListener("paste", function (event) { takeFiles(event, event.clipboardData && event.clipboardData.files); }, true);
  }

  // --- Featured image -----------------------------------------------------------------------------

  function setFeatured(widget, media) {
    var input = $("input[type=hidden]", widget);
    var thumb = $(".featured-image-thumb", widget);
    input.value = media ? media.id : "";
    thumb.hidden = !media;
    thumb.src = media ? media.url : "";
    thumb.alt = media ? media.alt : "";
    $(".featured-image-empty", widget).hidden = Boolean(media);
    $("[data-featured-remove]", widget).hidden = !media;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function setUpFeatured() {
    $all("[data-featured-image]").forEach(function (widget) {
      $("[data-media-open]", widget).addEventListener("click", function () {
        openMedia({ mode: "featured", widget: widget, tab: "library" });
      });
      $("[data-featured-remove]", widget).addEventListener("click", function () { setFeatured(widget, null); });
    });
  }

  // --- Tags: the admin's autocomplete, where new tags can be typed ------------------------------

  function setUpTags() {
    if (!window.django || !django.jQuery || !django.jQuery.fn.select2) return;
    var jq = django.jQuery;
    $all("select.editor-tags-autocomplete").forEach(function (element) {
      if (element.name.indexOf("__prefix__") !== -1) return;
      var prefix = element.dataset.newPrefix || "new:";
      jq(element).select2({
        tags: true,
        tokenSeparators: [","],
        createTag: function (params) {
          var term = jq.trim(params.term);
          return term ? { id: prefix + term, text: term, newTag: true } : null;
        },
        ajax: {
          data: function (params) {
            return {
              term: params.term, page: params.page, app_label: element.dataset.appLabel,
              model_name: element.dataset.modelName, field_name: element.dataset.fieldName
            };
          }
        }
      });
      // Select2's inline search box has no name of its own: give it the field's label.
      var label = element.id ? $("label[for='" + element.id + "']") : null;
      var name = label ? label.textContent.replace(/[:：]\s*$/, "").trim() : "";
      function nameSearchBox() {
        var container = element.nextElementSibling;
        var box = container && $(".select2-search__field", container);
        if (box && name) box.setAttribute("aria-label", name);
      }
      nameSearchBox();
      jq(element).on("change select2:select select2:unselect select2:close", nameSearchBox);
    });
  }

  // --- The summary follows the body until the editor writes one ----------------------------------

  function setUpSummary() {
    var auto = $("#id_summary_is_auto");
    var summary = $("#id_summary");
    if (!auto || !summary) return;
    function reflect() { summary.classList.toggle("summary-follows", auto.checked); }
    summary.addEventListener("input", function () { auto.checked = false; reflect(); });
    auto.addEventListener("change", reflect);
    reflect();
  }

  // --- Word count and reading time, counted from the preview as the article page counts them ---

  var CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/g;
  var WORD = /[\p{L}\p{N}\p{M}]+(?:['’-][\p{L}\p{N}\p{M}]+)*/gu;

  function readingStats(text) {
    var cjk = (text.match(CJK) || []).length;
    var words = (text.replace(CJK, " ").match(WORD) || []).length;
    var minutes = words || cjk ? Math.max(1, Math.round(words / 230 + cjk / 400)) : 0;
    return { words: words + cjk, minutes: minutes };
  }

  function setUpWordCount(room) {
    var host = $(".markdownx-preview", room);
    var counter = $("[data-word-count]", room);
    if (!host || !counter) return;
    function update() {
      var body = host.shadowRoot ? $(".reader-preview", host.shadowRoot) : host;
      var clone = body.cloneNode(true);
      $all(".header-anchor", clone).forEach(function (anchor) { anchor.remove(); });
      var stats = readingStats(clone.textContent || "");
      counter.textContent = interpolate(ngettext("%s word", "%s words", stats.words), [stats.words]) + " · " +
        interpolate(ngettext("%s minute read", "%s minutes read", stats.minutes), [stats.minutes]);
    }
    room.addEventListener("editor:preview", update);
    update();
  }

  // --- Search result and social card previews beside the SEO fields ------------------------------

  function setUpSeoPreview() {
    var description = $(".form-row.field-seo_description");
    var config = root.dataset.articleUrl;
    if (!description || !config) return;
    var box = document.createElement("div");
    box.className = "seo-previews";
    box.innerHTML =
      '<section class="seo-preview serp-preview" aria-labelledby="serp-preview-title"><h3 id="serp-preview-title"></h3>' +
      '<div class="serp-card"><span class="serp-url"></span><span class="serp-title"></span><span class="serp-text"></span></div></section>' +
      '<section class="seo-preview social-preview" aria-labelledby="social-preview-title"><h3 id="social-preview-title"></h3>' +
      '<div class="social-card"><img class="social-image" alt="" hidden><div class="social-body"><span class="social-host"></span>' +
      '<span class="social-title"></span><span class="social-text"></span></div></div></section>';
    $("#serp-preview-title", box).textContent = gettext("In search results");
    $("#social-preview-title", box).textContent = gettext("When shared (social card)");
    description.parentNode.insertBefore(box, description.nextSibling);

    var host = "";
    try { host = new URL(config.replace("__slug__", "x")).host; } catch (error) { host = location.host; }
    function value(name) { var field = form.elements.namedItem(name); return field ? field.value.trim() : ""; }
    function cut(text, limit) { return text.length > limit ? text.slice(0, limit - 1).replace(/\s+\S*$/, "") + "…" : text; }
    function previewText() {
      var host = $(".markdownx-preview");
      var body = host && host.shadowRoot ? $(".reader-preview", host.shadowRoot) : null;
      return body ? (body.textContent || "").replace(/#\s*$/gm, "").replace(/\s+/g, " ").trim() : "";
    }
    function update() {
      var title = value("seo_title") || value("title") || gettext("Untitled");
      var text = value("seo_description") || value("summary") || previewText();
      var url = config.replace("__slug__", encodeURIComponent(value("slug") || "…"));
      $(".serp-url", box).textContent = url;
      $(".serp-title", box).textContent = cut(title, 60);
      $(".serp-text", box).textContent = cut(text, 160) || gettext("(no description yet)");
      $(".social-host", box).textContent = host;
      $(".social-title", box).textContent = cut(title, 70);
      $(".social-text", box).textContent = cut(text, 200);
      var thumb = $(".featured-image-thumb");
      var image = $(".social-image", box);
      image.hidden = !(thumb && !thumb.hidden && thumb.getAttribute("src"));
      if (!image.hidden) image.src = thumb.getAttribute("src");
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    document.addEventListener("editor:preview", update);
    update();
  }

  // --- The sticky action bar never hides text: the page scrolls the panes clear of it --------

  function setUpActionBar() {
    var bar = $(".submit-row.editor-actions");
    if (!bar) return;
    function measure() {
      document.documentElement.style.setProperty("--editor-bar-height", bar.offsetHeight + "px");
    }
    measure();
    if (window.ResizeObserver) new ResizeObserver(measure).observe(bar);
    else window.addEventListener("resize", measure);
  }

  // --- Autosave, recovery and the unsaved-changes warning ------------------------------------------

  var autosaveFields = ["title", "slug", "body", "summary", "seo_title", "seo_description"];

  function fieldValues() {
    var values = {};
    var auto = $("#id_summary_is_auto");
    autosaveFields.forEach(function (name) {
      if (name === "summary" && auto && auto.checked) return;  // rebuilt from the body anyway
      var field = form.elements.namedItem(name);
      if (field && field.value !== undefined) values[name] = field.value;
    });
    return values;
  }

  function snapshot() {
    var data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    return new URLSearchParams(data).toString();
  }

  function setUpAutosave() {
    var status = $("[data-autosave-status]");
    var lastSaved = JSON.stringify(fieldValues());
    var pristine = snapshot();
    var submitting = false;
    var saving = false;
    // The autosave this tab has seen (its version): the server refuses to overwrite a newer
    // one written by another tab or editor (409), and this tab shows the conflict instead.
    var state = JSON.parse(($("#editor-autosave") || {}).textContent || "null");
    var base = state && !state.pending ? state.version : "";
    var conflict = null;
    // Text offered back at load: nothing is autosaved over it until it is restored or discarded.
    var awaitingRecovery = Boolean(state && state.pending);

    function say(text) { if (status) status.textContent = text; }

    function payload() {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", csrfToken);
      data.append("kind", root.dataset.kind);
      data.append("object_id", root.dataset.objectId || "");
      data.append("base", base);
      var values = fieldValues();
      Object.keys(values).forEach(function (name) { data.append(name, values[name]); });
      return data;
    }

    function fill(fields) {
      Object.keys(fields).forEach(function (name) {
        var field = form.elements.namedItem(name);
        if (!field) return;
        field.value = fields[name];
        field.dispatchEvent(new Event("input", { bubbles: true }));
      });
    }

    // The first autosave of a new article made it a draft: this tab is now its change form.
    function adopt(json) {
      root.dataset.objectId = String(json.object_id);
      form.action = json.change_url;
      // The draft's stored state, so saving this form is not taken for a stale one.
      var lock = form.querySelector("[name=lock_token]");
      if (lock && json.lock_token) lock.value = json.lock_token;
      if (window.history && history.replaceState) history.replaceState(null, "", json.change_url);
    }

    function showConflict(json) {
      conflict = json;
      var banner = $("#editor-conflict");
      if (!banner) return;
      var when = formatTime(new Date(json.saved_at), true);
      $("[data-conflict-when]", banner).textContent = json.by
        ? interpolate(gettext("%(who)s autosaved other text at %(when)s, after this tab was opened."), { who: json.by, when: when }, true)
        : interpolate(gettext("Other text was autosaved at %(when)s, after this tab was opened."), { when: when }, true);
      banner.hidden = false;
      say(gettext("Not autosaved: another tab or editor changed this article."));
    }

    function resolveConflict(keepMine) {
      if (!conflict) return;
      base = conflict.version;
      if (!keepMine) {
        fill(conflict.fields || {});
        lastSaved = JSON.stringify(fieldValues());
        say(gettext("The other text is loaded: save to keep it."));
      } else {
        lastSaved = "";  // autosave this tab's text now, over the other one
      }
      conflict = null;
      $("#editor-conflict").hidden = true;
      if (keepMine) save();
    }

    function save() {
      var current = JSON.stringify(fieldValues());
      if (saving || conflict || current === lastSaved) return;
      if (awaitingRecovery) {
        say(gettext("Not autosaved yet: restore or discard the recovered changes first."));
        return;
      }
      saving = true;
      post(root.dataset.autosaveUrl, payload())
        .then(function (response) {
          if (response.status === 409) {
            return response.json().then(function (json) { showConflict(json); return null; });
          }
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (json) {
          if (!json) return;
          lastSaved = current;
          base = json.version || base;
          if (json.change_url) adopt(json);
          var when = formatTime(new Date(json.saved_at), false);
          say(json.change_url
            ? interpolate(gettext("Saved as a draft at %s (listed under Drafts)"), [when])
            : interpolate(gettext("Draft autosaved at %s"), [when]));
        })
        .catch(function () { say(gettext("Autosave failed; your text is still here. Save to keep it.")); })
        .finally(function () { saving = false; });
    }

    setInterval(save, 5000);
    // A closing tab gets one last try, without waiting for an answer (not while a new
    // article's first autosave is on its way: that would make a second draft).
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && !submitting && !conflict && !awaitingRecovery &&
          !(saving && !root.dataset.objectId) && JSON.stringify(fieldValues()) !== lastSaved) {
        navigator.sendBeacon(root.dataset.autosaveUrl, payload());
      }
    });

    form.addEventListener("submit", function (event) {
      // Preview opens in another tab: this page stays, and so does the warning.
      if (event.submitter && event.submitter.name === "_preview") return;
      submitting = true;
    });
    window.addEventListener("beforeunload", function (event) {
      if (submitting || snapshot() === pristine) return;
      event.preventDefault();
      event.returnValue = "";
    });

    var conflictBanner = $("#editor-conflict");
    if (conflictBanner) {
      $("[data-conflict-keep]", conflictBanner).addEventListener("click", function () { resolveConflict(true); });
      $("[data-conflict-load]", conflictBanner).addEventListener("click", function () { resolveConflict(false); });
    }

    // Recovery: text autosaved after what the form shows (a crash, a closed tab, another tab).
    var banner = $("#editor-recovery");
    if (state && state.pending && banner) {
      var when = formatTime(new Date(state.saved_at), true);
      $("[data-recovery-when]", banner).textContent = state.by
        ? interpolate(gettext("Autosaved by %(who)s at %(when)s."), { who: state.by, when: when }, true)
        : interpolate(gettext("Autosaved at %s."), [when]);
      banner.hidden = false;
      $("[data-recovery-restore]", banner).addEventListener("click", function () {
        fill(state.fields);
        base = state.version;
        awaitingRecovery = false;
        banner.hidden = true;
        say(gettext("Recovered text restored: save to keep it."));
      });
      $("[data-recovery-discard]", banner).addEventListener("click", function () {
        var data = new FormData();
        data.append("kind", root.dataset.kind);
        data.append("object_id", root.dataset.objectId || "");
        post(root.dataset.autosaveDiscardUrl, data);
        base = "";
        awaitingRecovery = false;
        banner.hidden = true;
      });
    }
  }

  function init() {
    root = $("#editor-root");
    if (!root) return;
    form = root.closest("form");
    csrfToken = (form.elements.namedItem("csrfmiddlewaretoken") || {}).value || "";
    setUpMediaDialog();
    $all("[data-writing-room]").forEach(function (room) {
      setUpPreview(room);
      syncScroll(room);
      setUpShortcuts(room);
      setUpUploads(room);
      setUpWordCount(room);
    });
    setUpFeatured();
    setUpSeoPreview();
    setUpActionBar();
    setUpSummary();
    setUpAutosave();
    // After Django's own autocomplete script has run (jQuery's ready handlers go in order).
    if (window.django && django.jQuery) django.jQuery(setUpTags); else setUpTags();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
