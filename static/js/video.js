// Click-to-load video players (templates/_macros/video.html). Until the "Play the video" button
// is pressed, nothing is requested from the video's host. The press replaces the notice with
// the host's player (the embed address the server checked, given as data-embed), asked to
// start playing since the person just asked for it, and moves the focus into it; the "Watch on"
// link stays below. Without JavaScript the button stays hidden and the link opens the video.
(function () {
  "use strict";

  function play(figure) {
    var box = figure.querySelector(".video-box");
    var address = figure.getAttribute("data-embed");
    if (!box || !address || address.indexOf("https://") !== 0) {
      return;
    }
    var frame = document.createElement("iframe");
    frame.src = address + (address.indexOf("?") === -1 ? "?" : "&") + "autoplay=1";
    frame.title = figure.getAttribute("data-title") || "";
    frame.setAttribute("allow", "autoplay; fullscreen; picture-in-picture");
    frame.setAttribute("allowfullscreen", "");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    frame.className = "video-frame";
    var link = box.querySelector("a");
    var holder = document.createElement("div");
    holder.className = "video-player";
    holder.appendChild(frame);
    figure.replaceChild(holder, box);
    if (link) {
      var after = document.createElement("p");
      after.className = "video-after";
      after.appendChild(link);
      figure.insertBefore(after, holder.nextSibling);
    }
    figure.classList.add("video-playing");
    frame.focus();
  }

  var figures = document.querySelectorAll("[data-video][data-embed]");
  Array.prototype.forEach.call(figures, function (figure) {
    var button = figure.querySelector("[data-video-play]");
    if (!button) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      play(figure);
    });
  });
})();
