// Similar ideas while a new idea is typed: after a pause of 400 ms in the title or the body
// (a title of 3 characters at least), asks the server for the similar public ideas of the call
// (search:similar, an HTML fragment the server escaped) and puts them in the live region
// #similar-ideas, which screen readers announce politely. Without JavaScript, the form's
// "Check for similar ideas" button does the same by showing the form again.
(function () {
  "use strict";
  var region = document.getElementById("similar-ideas");
  var form = region && region.closest("form");
  if (!region || !form || !window.fetch) {
    return;
  }
  var title = form.querySelector("[name=title]");
  var body = form.querySelector("[name=body_md]");
  var timer = null;
  var latest = 0;
  var last = "";

  function refresh() {
    var typed = title.value.trim();
    if (typed.length < 3) {
      region.innerHTML = "";
      last = "";
      return;
    }
    // The body's first 1,000 characters are enough to tell and keep the address short.
    var params = new URLSearchParams({ title: typed, body: body ? body.value.slice(0, 1000) : "" });
    var url = region.getAttribute("data-similar-url") + "?" + params.toString();
    if (url === last) {
      return;
    }
    last = url;
    var ticket = ++latest;
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        // Only the answer to the latest request is shown: an older, slower one never wins.
        if (html !== null && ticket === latest) {
          region.innerHTML = html;
        }
      })
      .catch(function () {
        // Offline or refused: the button still works; nothing to say while someone types.
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  title.addEventListener("input", later);
  if (body) {
    body.addEventListener("input", later);
  }
})();
