// A new comment joins the thread in place. Without this file the form posts and comes back.
(function () {
  "use strict";
  var form = document.getElementById("comment-form");
  if (!form || !window.fetch) { return; }
  var status = document.getElementById("comment-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    fetch(form.action, {
      method: "POST", credentials: "same-origin", body: new FormData(form),
      headers: { "Accept": "text/html", "X-Requested-With": "fetch", "X-CSRF-Token": form.elements.csrf_token.value }
    }).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (data) { status.textContent = data.error || ""; });
      }
      return response.text().then(function (html) {
        var list = document.getElementById("comment-list");
        list.insertAdjacentHTML("beforeend", html);
        list.hidden = false;
        var empty = document.getElementById("no-comments");
        if (empty) { empty.hidden = true; }
        form.reset();
        status.textContent = form.getAttribute("data-done");
      });
    }).catch(function () { form.submit(); }).then(function () { button.disabled = false; });
  });
})();
