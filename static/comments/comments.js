// Progressive enhancement: "Reply" moves the comment form under the comment instead of
// opening the reply page. Without JavaScript the link still works. A reader who never
// commented has no CSRF cookie (reading sets none): the form asks for a token before it
// sends the first comment (without JavaScript, the server asks to press "Post" again).
(function () {
  "use strict";
  var form = document.getElementById("comment-form");
  if (!form) return;
  // A refused post comes back as the whole article: bring the reader to the form.
  if (form.querySelector(".form-errors, .field-error")) {
    form.scrollIntoView();
    var invalid = form.querySelector(".has-error input, .has-error textarea") || form.querySelector("textarea");
    if (invalid) invalid.focus({ preventScroll: true });
  }
  var home = document.createComment("comment-form-home");
  form.parentNode.insertBefore(home, form);
  var parentInput = form.querySelector("input[name=parent]");
  var title = form.querySelector("#comment-form-title");
  var defaultTitle = title ? title.textContent : "";
  var cancel = form.querySelector(".replying-to");

  function reset(event) {
    if (event) event.preventDefault();
    parentInput.value = "";
    if (title) title.textContent = defaultTitle;
    if (cancel) cancel.hidden = true;
    home.parentNode.insertBefore(form, home.nextSibling);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.reply-link");
    if (!link || !document.body.contains(form) || link.closest(".comment-reply-page")) return;
    event.preventDefault();
    parentInput.value = link.getAttribute("data-parent");
    if (title) title.textContent = title.getAttribute("data-reply-prefix") + " " + link.getAttribute("data-name");
    if (cancel) cancel.hidden = false;
    link.closest("li.comment").appendChild(form);
    var body = form.querySelector("textarea");
    if (body) body.focus();
  });
  if (cancel) cancel.querySelector("a").addEventListener("click", reset);

  var token = form.querySelector("input[name=csrfmiddlewaretoken]");
  form.addEventListener("submit", function (event) {
    if (!token || token.value || !window.fetch || form.hasAttribute("data-sending")) return;
    event.preventDefault();
    form.setAttribute("data-sending", "");
    var send = function () { form.submit(); };
    fetch(form.getAttribute("data-token-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (data) { if (data.token) token.value = data.token; send(); }, send);
  });
})();
