// Portail DEFI — the only script of the portal besides the vendored htmx.
// Sends the CSRF token on every htmx request and moves focus to what htmx swapped in.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // After a swap, put keyboard focus on the first error or on an element that asks for it,
  // so screen-reader and keyboard users land where the page changed.
  // htmx fires afterSwap on the swapped-in element: after an outerHTML swap, detail.target is
  // the element that was replaced, no longer in the page.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.target;
    if (!target) { return; }
    var focus = target.querySelector("[aria-invalid='true'], [data-autofocus]");
    if (!focus && target.id === "htmx-errors") { focus = target.querySelector("[tabindex]"); }
    if (focus) { focus.focus(); }
  });

  // Error summaries rendered by the server get focus on full page loads too.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
