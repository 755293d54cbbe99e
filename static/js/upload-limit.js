// Says before sending when a chosen file is too large, so that the form is not sent only to be
// refused (and what was typed is not lost). The server checks the same limits; this only warns.
// A form opts in with data-max-file-bytes, data-max-total-bytes and the two translated messages
// data-file-too-large and data-total-too-large (templates/_macros/forms.html, upload_limits).
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-max-file-bytes]");

  function problemFor(input) {
    var id = input.id + "-size";
    var found = document.getElementById(id);
    if (!found) {
      found = document.createElement("p");
      found.id = id;
      found.className = "error";
      found.setAttribute("role", "alert");
      input.parentNode.insertBefore(found, input);
    }
    return found;
  }

  function describe(input, text) {
    var id = input.id + "-size";
    var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
      return x && x !== id;
    });
    if (text) {
      problemFor(input).textContent = text;
      ids.push(id);
      input.setAttribute("aria-invalid", "true");
    } else {
      var old = document.getElementById(id);
      if (old) { old.parentNode.removeChild(old); }
      if (!input.parentNode.querySelector(".error")) { input.removeAttribute("aria-invalid"); }
    }
    if (ids.length) { input.setAttribute("aria-describedby", ids.join(" ")); } else { input.removeAttribute("aria-describedby"); }
  }

  function check(form) {
    var perFile = Number(form.getAttribute("data-max-file-bytes"));
    var total = Number(form.getAttribute("data-max-total-bytes"));
    var inputs = form.querySelectorAll("input[type=file]");
    var sum = 0;
    var first = null;
    var last = null;
    for (var i = 0; i < inputs.length; i++) {
      var size = 0;
      for (var j = 0; j < inputs[i].files.length; j++) { size += inputs[i].files[j].size; }
      sum += size;
      var tooLarge = size > perFile;
      describe(inputs[i], tooLarge ? form.getAttribute("data-file-too-large") : "");
      if (tooLarge && !first) { first = inputs[i]; }
      if (size) { last = inputs[i]; }
    }
    if (!first && sum > total && last) {
      describe(last, form.getAttribute("data-total-too-large"));
      first = last;
    }
    return first;
  }

  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("change", function (event) {
      if (event.target && event.target.type === "file") { check(form); }
    });
    form.addEventListener("submit", function (event) {
      var problem = check(form);
      if (problem) {
        event.preventDefault();
        problem.focus();
      }
    });
  });
})();
