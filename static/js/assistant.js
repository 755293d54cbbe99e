// The assistant's conversation panel, on every page: the footer's link to /assistant becomes a
// button that opens a small panel; questions go to the JSON API (POST with the X-CSRF-Token
// header) and answers are read out (aria-live). Escape or the Close button closes it and gives
// the focus back to the button. Nothing is loaded from other hosts; without this file the link
// opens the assistant's page, which works without JavaScript.
(function () {
  "use strict";
  var launch = document.getElementById("assistant-launch");
  var template = document.getElementById("assistant-panel-template");
  if (!launch || !template || !window.fetch) { return; }
  var panel = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function link(label, href) {
    var a = el("a", "", label);
    a.href = href;
    return a;
  }

  function postForm(action, fields, token) {
    var form = el("form", "assistant-inline-form");
    form.method = "post";
    form.action = action;
    var csrf = el("input");
    csrf.type = "hidden"; csrf.name = "csrf_token"; csrf.value = token;
    form.appendChild(csrf);
    Object.keys(fields).forEach(function (name) {
      var input = el("input");
      input.type = "hidden"; input.name = name; input.value = fields[name];
      form.appendChild(input);
    });
    return form;
  }

  function answerNode(data, token) {
    var box = el("div", "assistant-message assistant-message-answer");
    box.appendChild(el("p", "assistant-who", panel.dataset.assistant));
    if (data.kind === "entry") {
      var prose = el("div", "prose");
      if (data.original) {  // the original in another language than the page's: said, and its lang set
        box.appendChild(el("p", "original-language", data.original));
        prose.lang = data.lang;
      }
      prose.innerHTML = data.html;  // sanitised by the server when the entry was written (app.richtext)
      box.appendChild(prose);
    } else {
      box.appendChild(el("p", "", data.text));
    }
    if (data.items && data.items.length) {
      var list = el("ul");
      data.items.forEach(function (item) { var li = el("li"); li.appendChild(link(item.label, item.href)); list.appendChild(li); });
      box.appendChild(list);
    }
    if (data.source) {
      var source = el("p", "assistant-source", panel.dataset.source + " ");
      var sourceLink = link(data.source.label, data.source.href);
      if (data.original) { sourceLink.lang = data.lang; }
      source.appendChild(sourceLink);
      box.appendChild(source);
    }
    if (data.kind !== "unknown" && data.helpful) {
      var helpful = postForm(data.helpful, { token: data.token }, token);
      helpful.appendChild(el("span", "assistant-helpful-label", panel.dataset.helpful + " "));
      ["yes", "no"].forEach(function (value) {
        var button = el("button", "button button-small button-secondary", panel.dataset[value]);
        button.type = "submit"; button.name = "value"; button.value = value;
        helpful.appendChild(button);
      });
      helpful.addEventListener("submit", function (event) {
        event.preventDefault();
        var body = new FormData(helpful);
        body.append("value", event.submitter ? event.submitter.value : "yes");
        fetch(helpful.action, { method: "POST", body: body, credentials: "same-origin",
                                headers: { "Accept": "application/json", "X-CSRF-Token": token } })
          .then(function (r) { return r.json(); })
          .then(function (reply) { helpful.replaceWith(el("p", "assistant-thanks", reply.message || "")); })
          .catch(function () {});
      });
      box.appendChild(helpful);
    }
    if (data.hand) {
      var hand = postForm(data.hand, { token: data.token }, token);
      var ask = el("button", data.kind === "unknown" ? "button" : "button button-small button-secondary",
                   panel.dataset.hand);
      ask.type = "submit";
      hand.appendChild(ask);
      box.appendChild(hand);
    }
    return box;
  }

  // The CSRF token, asked once: pages leave it out of their markup so that they can be cached.
  var tokenRequest = null;
  function csrfToken() {
    if (!tokenRequest) {
      tokenRequest = fetch(launch.dataset.token, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("token"); } return r.json(); })
        .then(function (data) { return data.csrf_token; })
        .catch(function (error) { tokenRequest = null; throw error; });
    }
    return tokenRequest;
  }

  function ask(form) {
    var input = form.elements.question;
    var question = input.value.trim();
    if (!question) { input.focus(); return; }
    var log = panel.querySelector(".assistant-log");
    var token = "";
    var mine = el("div", "assistant-message assistant-message-question");
    mine.appendChild(el("p", "assistant-who", panel.dataset.you));
    mine.appendChild(el("p", "", question));
    log.appendChild(mine);
    var waiting = el("p", "assistant-waiting", panel.dataset.waiting);
    log.appendChild(waiting);
    input.value = "";
    csrfToken().then(function (value) {
      token = value;
      return fetch(panel.dataset.api, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify({ question: question })
      });
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      waiting.remove();
      if (!result.ok) {
        var message = result.data.fields && result.data.fields.question || result.data.error || panel.dataset.error;
        log.appendChild(el("p", "assistant-message assistant-error", message));
      } else {
        log.appendChild(answerNode(result.data, token));
      }
      log.scrollTop = log.scrollHeight;
    }).catch(function () {
      waiting.remove();
      log.appendChild(el("p", "assistant-message assistant-error", panel.dataset.error));
    });
  }

  function close() {
    if (!panel) { return; }
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  function open() {
    if (!panel) {
      panel = template.content.firstElementChild.cloneNode(true);
      panel.dataset.api = launch.dataset.api;
      panel.querySelector("[data-close]").addEventListener("click", close);
      panel.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { event.preventDefault(); close(); }
      });
      var form = panel.querySelector("form.assistant-panel-form");
      form.addEventListener("submit", function (event) { event.preventDefault(); ask(form); });
      document.body.appendChild(panel);
    }
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    panel.querySelector("#assistant-panel-q").focus();
  }

  // The link becomes a button (same words), which says whether the panel is open.
  var button = el("button", "link-button assistant-launch-button", launch.textContent);
  button.type = "button";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "assistant-panel");
  button.addEventListener("click", function () {
    if (panel && !panel.hidden) { close(); } else { open(); }
  });
  button.dataset.api = launch.dataset.api;
  button.dataset.token = launch.dataset.token;
  launch.replaceWith(button);
  launch = button;
})();
