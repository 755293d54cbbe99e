// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // The one way the page's scripts send a form and read the platform's JSON answer
  // (app.web_answers): a promise of {ok: whether the status was 2xx, data: the JSON}. The
  // scripts that use it (cards.js, inplace.js, ballot.js) call it from their event handlers,
  // which run after this deferred file.
  window.Reinventons = window.Reinventons || {};
  window.Reinventons.postForm = function (form) {
    return fetch(form.action, {
      method: "POST", credentials: "same-origin", body: new FormData(form),
      headers: { "Accept": "application/json", "X-Requested-With": "fetch",
                 "X-CSRF-Token": form.elements.csrf_token.value }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  };
  // Move focus to the error summary so screen reader users hear what went wrong.
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () {});
    });
  }

  // A form is sent once: while it is on its way its buttons are disabled, so a second tap on a
  // slow phone sends nothing (the server also answers a repeat like the first: app/submission).
  // Listening on window runs after the page's own scripts, which may send a form themselves
  // (they call preventDefault and handle their buttons). A form that stays on the page (a
  // download) says data-no-lock.
  var LOCKED = "data-locked";
  window.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form || !form.getAttribute || form.hasAttribute("data-no-lock") ||
        (form.getAttribute("method") || "get").toLowerCase() !== "post") { return; }
    if (form.hasAttribute("data-sending")) { event.preventDefault(); return; }
    form.setAttribute("data-sending", "");
    // Disabled after the browser has read the form: a disabled button's name and value (the
    // "draft" or "submit" of the idea form) would not be sent.
    window.setTimeout(function () {
      var buttons = form.querySelectorAll("button, input[type=submit]");
      for (var i = 0; i < buttons.length; i++) {
        if (!buttons[i].disabled) { buttons[i].disabled = true; buttons[i].setAttribute(LOCKED, ""); }
      }
    }, 0);
  });
  // Back to a page kept in the browser's memory: its forms can be sent again.
  window.addEventListener("pageshow", function () {
    var forms = document.querySelectorAll("form[data-sending]");
    for (var i = 0; i < forms.length; i++) { forms[i].removeAttribute("data-sending"); }
    var buttons = document.querySelectorAll("[" + LOCKED + "]");
    for (var j = 0; j < buttons.length; j++) { buttons[j].disabled = false; buttons[j].removeAttribute(LOCKED); }
  });
})();
