/* The ballot of a participatory budget, in place (app.budget): adding, removing a project and
   confirming are sent with fetch (X-CSRF-Token), then the ballot is read again from the page
   itself and swapped in, so it reads as after a reload; the outcome is said in the live region
   and the focus stays on the project acted on. Without this script the forms post as usual. */
(function () {
  "use strict";
  var root = document.querySelector("[data-ballot]");
  if (!root || !window.fetch || !window.DOMParser) { return; }

  function say(text) {
    var status = document.querySelector("[data-ballot-status]");
    if (status) { status.textContent = ""; window.setTimeout(function () { status.textContent = text; }, 50); }
  }

  function refresh() {
    return fetch(window.location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-ballot]");
        if (!fresh) { throw new Error("no ballot"); }
        root.innerHTML = fresh.innerHTML;
      });
  }

  function focusOn(id) {
    var item = id ? document.getElementById(id) : null;
    var target = (item && item.querySelector("button")) || (item && item.querySelector("a"))
      || document.getElementById("summary-title");
    if (target) {
      if (!target.hasAttribute("tabindex") && target.tagName === "H2") { target.setAttribute("tabindex", "-1"); }
      target.focus();
    }
  }

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.closest || !form.closest("[data-ballot]") || !form.elements.csrf_token) { return; }
    event.preventDefault();
    if (form.hasAttribute("data-sending")) { return; }
    form.setAttribute("data-sending", "");
    var item = form.closest("[id^='project-']");
    var id = item ? item.id : "";
    window.Reinventons.postForm(form).then(function (result) {
      var message = result.ok ? result.data.message : (result.data.error || "");
      return refresh().then(function () {
        focusOn(id);
        say(message);
      });
    }).catch(function () {
      form.removeAttribute("data-sending");
      form.submit();
    });
  });
})();
