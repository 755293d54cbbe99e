// Votes update in place. Without this file the forms post and come back to the idea.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-vote-form") || !window.fetch) { return; }
    event.preventDefault();
    var panel = form.closest(".vote-panel");
    var button = form.querySelector("button");
    var say = function (text) { var m = panel.querySelector("[data-vote-message]"); if (m) { m.textContent = text; } };
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-Requested-With": "fetch",
                 "X-CSRF-Token": form.elements.csrf_token.value }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      var data = result.data;
      if (!result.ok) { say(data.error || ""); return; }
      var count = panel.querySelector("[data-vote-count]");
      if (count && data.count_text) { count.textContent = data.count_text; }
      var left = panel.querySelector("[data-votes-left]");
      if (left && data.left_text) { left.textContent = data.left_text; }
      var action = form.getAttribute("data-other-action");
      var label = form.getAttribute("data-other-label");
      form.setAttribute("data-other-action", form.action);
      form.setAttribute("data-other-label", button.textContent);
      form.action = action;
      button.textContent = label;
      button.classList.toggle("button-secondary", data.voted);
      say(data.message || "");
    }).catch(function () { form.submit(); }).then(function () { button.disabled = false; });
  });
})();
