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

  // When the swap removed the element that had focus (« Modifier » replaced by its form,
  // « Annuler » by the section), focus would fall back to <body>, nowhere for a keyboard or
  // screen-reader user: it goes to the first field of what came in, else to its heading.
  var focusWasInTarget = false;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    focusWasInTarget = !!(target && active && active !== document.body && target.contains(active));
  });

  // The first field shown: one in a closed <details> (a comment form) cannot take focus.
  function firstField(root) {
    var fields = root.querySelectorAll(
      "input:not([type='hidden']):not([disabled]), select:not([disabled]), textarea:not([disabled])"
    );
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.getClientRects().length && !field.closest("details:not([open])")) { return field; }
    }
    return null;
  }

  function heading(root) {
    var title = root.matches("h1, h2, h3") ? root : root.querySelector("h1, h2, h3");
    if (title && !title.hasAttribute("tabindex")) { title.setAttribute("tabindex", "-1"); }
    return title;
  }

  // After a swap, put keyboard focus on the first error or on an element that asks for it,
  // so screen-reader and keyboard users land where the page changed.
  // htmx fires afterSwap on the swapped-in element: after an outerHTML swap, detail.target is
  // the element that was replaced, no longer in the page.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.target;
    if (!target) { return; }
    var active = document.activeElement;
    var lost = focusWasInTarget && (!active || active === document.body || !active.isConnected);
    focusWasInTarget = false;
    var focus = target.querySelector("[aria-invalid='true'], [data-autofocus]");
    if (!focus && target.id === "htmx-errors") { focus = target.querySelector("[tabindex]"); }
    if (!focus && lost) { focus = firstField(target) || heading(target); }
    if (focus) { focus.focus(); }
  });

  // Typing in a field marked data-checks="<radio id>" chooses that radio (the hand-merged
  // text of the co-design conflict view chooses « Le texte ci-dessous »).
  document.addEventListener("input", function (event) {
    var field = event.target;
    var id = field && field.getAttribute && field.getAttribute("data-checks");
    var radio = id ? document.getElementById(id) : null;
    if (radio) { radio.checked = true; }
  });

  // Error summaries rendered by the server get focus on full page loads too.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();

// Live co-design page (portal/design/live_views.py, templates/design/_live.html).
(function () {
  "use strict";

  var POLLER = "design-live";
  var SECTIONS = "section[id^='section-'][data-version]";

  // templates/design/_section.html: data-mode is "view", "edit" or "conflict" (a form open).
  function isOpen(section) {
    var mode = section.getAttribute("data-mode");
    return mode === "edit" || mode === "conflict";
  }

  // Before each poll, say which section versions the page shows and which forms are open:
  // the server refreshes the others and only warns those being edited.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id !== POLLER) { return; }
    var versions = [];
    var editing = [];
    document.querySelectorAll(SECTIONS).forEach(function (section) {
      var key = section.id.slice("section-".length);
      versions.push(key + ":" + section.getAttribute("data-version"));
      if (isOpen(section)) { editing.push(key); }
    });
    event.detail.parameters.versions = versions.join(",");
    event.detail.parameters.editing = editing.join(",");
  });

  // A poll answered just before a form opened must not replace that form.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.matches(SECTIONS) && isOpen(target)) {
      event.detail.shouldSwap = false;
    }
  });

  // A section opened, saved or cancelled by its own request: poll now rather than at the
  // next tick, so that the others see it within one period (3 s) instead of two.
  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id !== POLLER && event.target.matches && event.target.matches(SECTIONS)) {
      document.body.dispatchEvent(new Event("design-refresh"));
    }
  });

  // Stop polling when a poll is refused (its error shows once) or was sent to the login
  // page (session ended): the next action of the person will tell them why.
  document.addEventListener("htmx:afterRequest", function (event) {
    var poller = event.detail.elt;
    if (!poller || poller.id !== POLLER) { return; }
    var xhr = event.detail.xhr;
    var redirected = xhr && xhr.responseURL &&
      new URL(xhr.responseURL).pathname !== poller.getAttribute("hx-post");
    if (event.detail.failed || redirected) { poller.remove(); }
  });

  // Leaving the page frees the presence at once instead of after 30 seconds.
  window.addEventListener("pagehide", function () {
    var poller = document.getElementById(POLLER);
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (!poller || !meta || !navigator.sendBeacon) { return; }
    var data = new FormData();
    data.append("csrf_token", meta.getAttribute("content"));
    navigator.sendBeacon(poller.getAttribute("data-leave-url"), data);
  });
})();

// « Copier » next to a SHA-256 fingerprint (templates/macros/fingerprint.html): shown only
// where the clipboard can be written; copies the digits without the spaces between blocks.
// If copying is refused, the hash is selected so that Ctrl+C (⌘+C) copies it. The messages
// come translated from the template (data-copied, data-selected).
(function () {
  "use strict";

  function revealCopyButtons(root) {
    if (!navigator.clipboard || !window.isSecureContext) { return; }
    root.querySelectorAll("[data-copy-fingerprint][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function say(box, message) {
    var status = box.querySelector(".fingerprint__status");
    if (status) { status.textContent = message; }
  }

  document.addEventListener("DOMContentLoaded", function () { revealCopyButtons(document); });
  document.addEventListener("htmx:load", function (event) { revealCopyButtons(event.target); });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-fingerprint]");
    if (!button) { return; }
    var box = button.closest(".fingerprint");
    var value = box.querySelector("[data-fingerprint]");
    navigator.clipboard.writeText(value.getAttribute("data-fingerprint")).then(function () {
      say(box, button.getAttribute("data-copied"));
    }, function () {
      window.getSelection().selectAllChildren(value);
      say(box, button.getAttribute("data-selected"));
    });
  });
})();
