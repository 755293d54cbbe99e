// Actions done in place on an idea page: support, follow, comment, delete a comment. A form
// marked data-inplace="<id of a role=status element>" is sent with fetch; then every part of
// the page marked data-sync (an id) is brought up to date from the page itself, fetched again,
// so counts, buttons and lists everywhere on the page read exactly as after a reload. The
// message is said in the status element, and focus goes where a reload would lead (the
// comment in the link's #fragment) or back to the control that was used.
// Without this file every form posts and comes back.
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser) { return; }
  var main = document.getElementById("main");
  var FOCUSABLE = "button:not([disabled]), a[href], input:not([type=hidden]), textarea, select";

  function say(form, text) {
    var box = document.getElementById(form.getAttribute("data-inplace"));
    if (box) { box.textContent = text || ""; }
  }

  function sameAttributes(target, source) {
    var i;
    for (i = target.attributes.length - 1; i >= 0; i--) {
      if (!source.hasAttribute(target.attributes[i].name)) { target.removeAttribute(target.attributes[i].name); }
    }
    for (i = 0; i < source.attributes.length; i++) {
      target.setAttribute(source.attributes[i].name, source.attributes[i].value);
    }
  }

  // The regions keep their element (a live region inside one is still the same element, so
  // screen readers say its new text); their attributes and content become the fresh ones.
  function sync() {
    return fetch(window.location.pathname + window.location.search, {
      credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store"
    }).then(function (response) {
      if (!response.ok) { throw new Error("page " + response.status); }
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      var regions = document.querySelectorAll("[data-sync]");
      for (var i = 0; i < regions.length; i++) {
        var source = fresh.getElementById(regions[i].id);
        if (source) {
          sameAttributes(regions[i], source);
          regions[i].innerHTML = source.innerHTML;
        } else {  // gone from the page: hidden here, shown again if a later reading has it
          regions[i].hidden = true;
          regions[i].innerHTML = "";
        }
      }
    });
  }

  // candidates: [id, inside] pairs, the first one on the page wins; `inside` focuses the first
  // control in it (a form), otherwise the element itself, as following a link to it would.
  function focusFirst(candidates) {
    for (var i = 0; i < candidates.length; i++) {
      var element = candidates[i][0] && document.getElementById(candidates[i][0]);
      if (!element) { continue; }
      var target = candidates[i][1] ? element.querySelector(FOCUSABLE) : null;
      if (!target) {
        target = element;
        if (!target.matches(FOCUSABLE) && !target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
      }
      target.focus();
      return;
    }
  }

  // Where focus goes afterwards: the item the answer links to (a new comment), else the same
  // form again (by its id: the support button, which now withdraws), else the nearest element
  // around it that is still there (a deleted comment's place).
  function around(form) {
    var candidates = [[form.id, true]];
    for (var node = form.parentElement; node && node !== main; node = node.parentElement) {
      if (node.id) { candidates.push([node.id, false]); }
    }
    return candidates;
  }

  function linked(data) {
    var link = (data && data.link) || "";
    return link.indexOf("#") >= 0 ? [[link.slice(link.indexOf("#") + 1), false]] : [];
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-inplace")) { return; }
    event.preventDefault();
    if (form.hasAttribute("data-sending")) { return; }
    var buttons = form.querySelectorAll("button");
    var candidates = around(form);  // read now: the form may be replaced by its fresh copy
    var i;
    form.setAttribute("data-sending", "");
    for (i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
    if (main) { main.setAttribute("aria-busy", "true"); }
    var done = function () {
      form.removeAttribute("data-sending");
      for (i = 0; i < buttons.length; i++) { buttons[i].disabled = false; }
      if (main) { main.removeAttribute("aria-busy"); }
    };
    window.Reinventons.postForm(form).then(function (result) {
      if (!result.ok) {
        done();
        say(form, result.data.error || "");
        return;
      }
      return sync().then(function () {
        if (form.hasAttribute("data-inplace-reset")) { form.reset(); }
        done();
        focusFirst(linked(result.data).concat(candidates));
        say(form, result.data.message);
      }, function () { window.location.reload(); });
    }).catch(function () {
      // No answer: send it as a plain form (a create form's one-time token makes a repeat harmless).
      done();
      form.submit();
    });
  });
})();
