// Keeps the breach deadlines' countdowns current while the page is open.
// Loaded as a file (no inline script), so it runs under the app's Content-Security-Policy.
(function () {
  "use strict";

  var lang = document.documentElement.lang || "nl";
  function format(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    var h = lang === "nl" ? "u" : "h";
    if (days) {
      return days + " d " + hours + " " + h;
    }
    return hours + " " + h + " " + (mins < 10 ? "0" : "") + mins + " min";
  }

  // Reload once when a deadline passes while the page is open, so that it shows as overdue;
  // never on the first tick, so a fast clock cannot make the page reload itself forever.
  var first = true;
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-countdown"));
      if (isNaN(due)) {
        return;
      }
      var left = due - now;
      if (left <= 0 && !first && !el.hasAttribute("data-overdue") && el.dataset.wasDue) {
        window.location.reload();
        return;
      }
      if (left > 0) {
        el.dataset.wasDue = "1";
      }
      el.textContent = format(left);
    });
    first = false;
  }

  if (document.querySelector("[data-countdown]")) {
    tick();
    window.setInterval(tick, 30000);
  }
})();
