// Tells the server the editor's time zone (the browser's), so the admin shows and takes
// times in it (articles/timezones.py reads the cookie). Loaded on every admin page,
// the login page included, so it is set before the first form.
(function () {
  "use strict";
  var name = (document.currentScript && document.currentScript.dataset.cookie) || "blog_editor_tz";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone) return;
  var current = document.cookie.split("; ").filter(function (c) { return c.indexOf(name + "=") === 0; })[0];
  // Zone names are letters, digits and "/_+-": cookie-safe as they are.
  if (!/^[A-Za-z0-9\/_+-]+$/.test(zone) || (current && current.slice(name.length + 1) === zone)) return;
  document.cookie = name + "=" + zone + "; path=/; max-age=31536000; samesite=lax" +
    (location.protocol === "https:" ? "; secure" : "");
})();
