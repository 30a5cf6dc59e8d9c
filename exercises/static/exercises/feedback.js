// The exercise page's feedback on the latest attempt. While it is graded, the page asks
// for it (quickly at first, then less often) and, when the verdict is in, puts each part's
// ✓ or ✗ and message beside its answer, the attempt's summary above Submit, the worked
// solution once earned and the list of attempts; the regions are live, so screen readers hear it arrive. Once an
// answer is edited, its verdict is dimmed: it judged the answer before. Without
// JavaScript the page shows the same when reloaded.
(function () {
  "use strict";

  function renderMaths(el) {
    if (window.courseSite && window.courseSite.renderMaths) window.courseSite.renderMaths(el);
  }

  function slotTarget(name, latest) {
    if (name === "latest") return latest;
    if (name === "solution") return document.getElementById("solution-slot");
    return document.getElementById(name);
  }

  function follow() {
    var latest = document.getElementById("latest-attempt");
    if (!latest || !latest.dataset.poll || !window.fetch) return;
    var url = latest.dataset.poll;
    // As on the submission page: a verdict usually comes within a tenth of a second.
    var delay = 150;
    var started = Date.now();

    function put(feedback) {
      var slots = feedback.querySelectorAll("[data-slot]");
      for (var i = 0; i < slots.length; i++) {
        var target = slotTarget(slots[i].dataset.slot, latest);
        if (!target) continue;
        target.innerHTML = slots[i].innerHTML;
        target.classList.remove("stale");
        renderMaths(target);
      }
      delete latest.dataset.poll;
      document.dispatchEvent(new CustomEvent("feedback:arrived", { detail: feedback.dataset.status }));
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (response.redirected) {
            latest.textContent = "You are signed out: reload the page to see the verdict.";
            return null;
          }
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          if (html === null) return;
          var template = document.createElement("template");
          template.innerHTML = html;
          var feedback = template.content.querySelector(".exercise-feedback");
          if (!feedback) throw new Error("not the feedback");
          var status = feedback.dataset.status;
          if (status === "queued" || status === "grading") schedule();
          else put(feedback);
        })
        .catch(schedule);
    }

    function schedule() {
      // Backing off (x1.5) to every 10 s, for at most 30 minutes.
      delay = Math.min(delay * 1.5, 10000);
      if (Date.now() - started > 30 * 60 * 1000) return;
      window.setTimeout(poll, delay);
    }

    window.setTimeout(poll, delay);
  }

  function dimWhenEdited() {
    var form = document.querySelector("form.answers");
    if (!form) return;
    form.addEventListener("input", function (event) {
      var part = event.target.closest && event.target.closest(".part");
      var verdict = part && part.querySelector(".part-verdict");
      if (verdict && verdict.textContent.trim()) verdict.classList.add("stale");
    });
  }

  function start() {
    follow();
    dimWhenEdited();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
