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
  function gettext(text) { return window.gettext ? window.gettext(text) : text; }

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
              gettext("The upload failed (the server answered %s).").replace("%s", response.status));
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

    function say(text) { if (status) status.textContent = text; }

    function payload() {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", csrfToken);
      data.append("kind", root.dataset.kind);
      data.append("object_id", root.dataset.objectId || "");
      var values = fieldValues();
      Object.keys(values).forEach(function (name) { data.append(name, values[name]); });
      return data;
    }

    function save() {
      var current = JSON.stringify(fieldValues());
      if (saving || current === lastSaved) return;
      saving = true;
      post(root.dataset.autosaveUrl, payload())
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (json) {
          lastSaved = current;
          var when = new Date(json.saved_at);
          say(gettext("Draft autosaved at %s").replace("%s", when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })));
        })
        .catch(function () { say(gettext("Autosave failed; your text is still here. Save to keep it.")); })
        .finally(function () { saving = false; });
    }

    setInterval(save, 5000);
    // A closing tab gets one last try, without waiting for an answer.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && !submitting && JSON.stringify(fieldValues()) !== lastSaved) {
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

    // Recovery: a draft autosaved after what the form shows (a crash, a closed tab).
    var recovered = JSON.parse(($("#editor-autosave") || {}).textContent || "null");
    var banner = $("#editor-recovery");
    if (recovered && banner) {
      var when = new Date(recovered.saved_at);
      $("[data-recovery-when]", banner).textContent = gettext("Autosaved %s.").replace("%s", when.toLocaleString());
      banner.hidden = false;
      $("[data-recovery-restore]", banner).addEventListener("click", function () {
        Object.keys(recovered.fields).forEach(function (name) {
          var field = form.elements.namedItem(name);
          if (!field) return;
          field.value = recovered.fields[name];
          field.dispatchEvent(new Event("input", { bubbles: true }));
        });
        banner.hidden = true;
        say(gettext("Recovered text restored: save to keep it."));
      });
      $("[data-recovery-discard]", banner).addEventListener("click", function () {
        var data = new FormData();
        data.append("kind", root.dataset.kind);
        data.append("object_id", root.dataset.objectId || "");
        post(root.dataset.autosaveDiscardUrl, data);
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
    });
    setUpFeatured();
    setUpSummary();
    setUpAutosave();
    // After Django's own autocomplete script has run (jQuery's ready handlers go in order).
    if (window.django && django.jQuery) django.jQuery(setUpTags); else setUpTags();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
