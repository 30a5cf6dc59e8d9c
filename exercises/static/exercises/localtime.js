// Dates in the student's own time zone. The server writes each moment as
// <time datetime="ISO">its own zone's text, named</time>; this rewrites the text in the
// browser's zone, with that zone's short name, so "due 17:00" means 17:00 where the
// student is. Without JavaScript (or Intl) the server's text stays: it names its zone.
(function () {
  "use strict";

  var FORMAT = {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  };

  function formatter() {
    try {
      return new Intl.DateTimeFormat(undefined, FORMAT);
    } catch (e) {
      return null;
    }
  }

  // Rewrites every <time> under root that holds a moment (a date and a time of day);
  // a plain date has no zone to convert.
  function localise(root) {
    if (!window.Intl || !root || !root.querySelectorAll) return;
    var format = formatter();
    if (!format) return;
    var times = root.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      if (el.dataset.local === "done") continue;
      var iso = el.getAttribute("datetime");
      if (iso.indexOf("T") < 0) continue;
      var when = new Date(iso);
      if (isNaN(when.getTime())) continue;
      if (!el.title) el.title = el.textContent.trim();
      el.textContent = format.format(when);
      el.dataset.local = "done";
    }
  }

  window.localTimes = localise;

  function start() {
    localise(document.body);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
