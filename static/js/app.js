// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Move focus to the error summary so screen reader users hear what went wrong.
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () {});
    });
  }
})();
