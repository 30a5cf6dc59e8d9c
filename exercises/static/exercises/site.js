// Follows a submission being graded: fetches its verdict with growing pauses and
// puts it in place, so the student never reloads. Without JavaScript, the page
// refreshes itself (a <noscript> meta refresh) instead.
(function () {
  "use strict";
  var box = document.getElementById("verdict");
  if (!box || !box.dataset.poll) return;
  var url = box.dataset.poll;
  var delay = 500;
  var started = Date.now();

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;
        var verdict = box.querySelector("[data-status]");
        var status = verdict ? verdict.dataset.status : "";
        if (status === "queued" || status === "grading") schedule();
        else document.dispatchEvent(new CustomEvent("verdict:arrived", { detail: status }));
      })
      .catch(schedule);
  }

  function schedule() {
    // Quick at first, then backing off to every 10 s: a slow queue costs little.
    delay = Math.min(delay * 1.5, 10000);
    if (Date.now() - started > 30 * 60 * 1000) return;
    window.setTimeout(poll, delay);
  }

  window.setTimeout(poll, delay);
})();
