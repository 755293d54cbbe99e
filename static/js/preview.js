// The idea form's previews, in place. "Preview" (a real submit button whose formaction is the
// preview route, so it works without JavaScript) asks the server for the rendered idea as an HTML
// fragment (?fragment=1) and puts it in the live region #idea-preview, so the chosen photo files
// stay chosen; the files themselves are left out of that request. Each chosen photo is shown next
// to its description field from the browser's own copy (a blob: address, allowed by the CSP).
(function () {
  "use strict";
  var region = document.getElementById("idea-preview");
  var form = region && region.closest("form");
  if (!form) {
    return;
  }

  var button = form.querySelector("[data-preview]");
  if (button && window.fetch && window.FormData) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      Array.from(data.keys()).forEach(function (key) {
        if (/^photo_\d+$/.test(key)) {
          data.delete(key);
        }
      });
      var url = button.getAttribute("formaction").split("#")[0] + "?fragment=1";
      button.disabled = true;
      fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          button.disabled = false;
          if (html === null) {
            form.requestSubmit(button); // the server had something to say: let it say it on a page
            return;
          }
          region.innerHTML = html;
          region.focus();
        })
        .catch(function () {
          button.disabled = false;
          form.requestSubmit(button);
        });
    });
  }

  form.querySelectorAll("input[type=file][accept^=image]").forEach(function (input) {
    var shown = null;
    input.addEventListener("change", function () {
      if (shown) {
        URL.revokeObjectURL(shown.src);
        shown.remove();
        shown = null;
      }
      var file = input.files && input.files[0];
      if (!file || !/^image\//.test(file.type)) {
        return;
      }
      shown = document.createElement("img");
      shown.className = "photo-preview";
      shown.alt = ""; // the description field next to it says what the photo shows
      shown.width = 160; // the box is known before the file is decoded: no layout shift
      shown.height = 120;
      shown.loading = "lazy";
      shown.src = URL.createObjectURL(file);
      input.insertAdjacentElement("afterend", shown);
    });
  });
})();
