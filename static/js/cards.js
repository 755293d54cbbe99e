// Support an idea, or withdraw the support, from its card on a call page, in place. Each card's
// form (data-card-vote) posts to the vote routes, which answer scripts with JSON: the new count
// and "N left" sentence in the reader's language, or the refusal's message (a fourth support in
// a theme). The card's count, button and mark change; every "N left" text of the same limit
// (data-left-bucket: a theme, or the whole call) says the new sentence; the card's status
// element says the message. Without this file the form posts and the server comes back to the
// list at this card with the message.
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) { return; }

  function setText(root, selector, text) {
    var nodes = root.querySelectorAll(selector);
    for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = text; }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-card-vote")) { return; }
    event.preventDefault();
    if (form.hasAttribute("data-sending")) { return; }
    var card = form.closest(".idea-card") || document;
    var button = form.querySelector("button");
    var status = card.querySelector("[role=status]");
    form.setAttribute("data-sending", "");
    button.disabled = true;
    var said = document.querySelectorAll(".card-message");
    for (var i = 0; i < said.length; i++) { said[i].textContent = ""; }  // one message at a time
    var finish = function () { form.removeAttribute("data-sending"); button.disabled = false; };
    window.Reinventons.postForm(form).then(function (result) {
      finish();
      var data = result.data || {};
      if (!result.ok) {
        if (status) { status.textContent = data.error || ""; }
        return;
      }
      var voted = !!data.voted;
      form.action = form.getAttribute(voted ? "data-withdraw" : "data-cast");
      button.textContent = form.getAttribute(voted ? "data-label-withdraw" : "data-label-cast");
      button.classList.toggle("button-secondary", voted);
      var mark = card.querySelector("[data-card-voted]");
      if (mark) { mark.hidden = !voted; }
      if (data.count_text) { setText(card, "[data-card-count]", data.count_text); }
      if (data.left_text) {
        setText(document, '[data-left-bucket="' + form.getAttribute("data-bucket") + '"]', data.left_text);
      }
      if (status) { status.textContent = data.message || ""; }
      button.focus();
    }).catch(function () {
      // No answer the script understands: send it as a plain form.
      finish();
      form.submit();
    });
  });
})();
