// Timed quizzes in the browser (their times are in the student's own zone through
// localtime.js, as every page's): the countdown with its
// warnings at 5 and 1 minutes, drafts saved while the student types, and at zero a form
// that takes no more answers. The server keeps the time and submits the last drafts
// whatever the browser does: this only shows it and keeps the drafts fresh.
(function () {
  "use strict";

  if (window.quizClockStarted) return;
  window.quizClockStarted = true;

  var WARNINGS = [
    { seconds: 5 * 60, text: "5 minutes left. Your answers are saved as you type." },
    { seconds: 60, text: "1 minute left. When the time is up, your last answers are submitted for you." },
  ];
  var DRAFT_DELAY = 800;
  var TIME_UP =
    "Time is up. The page takes no more answers; your last answers are submitted and graded for you.";

  // ------------------------------------------------------------------ drafts

  function answersOf(form) {
    var answers = {};
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (!el.name || el.name.indexOf("answer-") !== 0) continue;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) continue;
      var key = el.name.slice("answer-".length);
      answers[key] = answers[key] ? answers[key] + ", " + el.value : el.value;
    }
    return answers;
  }

  function setUpDrafts(form, url, status) {
    var tokenField = form.querySelector("input[name=csrfmiddlewaretoken]");
    var token = tokenField ? tokenField.value : "";
    var last = JSON.stringify(answersOf(form));
    var timer = null;
    var stopped = false;

    function tell(state, text) {
      if (!status) return;
      status.dataset.state = state;
      status.textContent = text;
    }

    function save(keepalive) {
      window.clearTimeout(timer);
      timer = null;
      if (stopped) return;
      var answers = answersOf(form);
      var typed = JSON.stringify(answers);
      if (typed === last) return;
      fetch(url, {
        method: "POST",
        body: JSON.stringify({ answers: answers }),
        credentials: "same-origin",
        keepalive: !!keepalive,
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": token,
          "X-Requested-With": "fetch",
        },
      })
        .then(function (response) {
          if (response.redirected) throw new Error("You are signed out: reload the page.");
          return response.json().then(function (data) {
            return { status: response.status, data: data || {} };
          });
        })
        .then(function (reply) {
          if (reply.status === 200) {
            last = typed;
            var at = new Date(reply.data.saved);
            tell("saved", "Draft saved at " + at.toLocaleTimeString() + ".");
          } else {
            if (reply.status === 403) stopped = true;
            tell("error", reply.data.error || "The draft could not be saved.");
          }
        })
        .catch(function (error) {
          tell("error", (error && error.message && error.message.indexOf("signed out") >= 0)
            ? error.message
            : "The draft could not be saved: check your connection.");
        });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(save, DRAFT_DELAY);
    }

    ["input", "change", "keyup"].forEach(function (name) {
      form.addEventListener(name, later);
    });
    // Leaving the page (or hiding it on a phone): the typing of the last moment goes too.
    window.addEventListener("pagehide", function () {
      if (timer) save(true);
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && timer) save(true);
    });
    // A submitted form needs no draft.
    form.addEventListener("submit", function () {
      window.clearTimeout(timer);
      timer = null;
    });
    return {
      flush: function () {
        save(true);
        stopped = true;
      },
    };
  }

  // ------------------------------------------------------------------ the countdown

  function format(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var pad = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s);
  }

  function stopTakingAnswers(form) {
    if (!form) return;
    for (var i = 0; i < form.elements.length; i++) {
      if (form.elements[i].type !== "hidden") form.elements[i].disabled = true;
    }
    // The code editor is no form control: inert stops it too.
    form.inert = true;
    form.setAttribute("aria-disabled", "true");
    form.classList.add("quiz-over");
  }

  function setUpClock(clock) {
    var ends = Date.parse(clock.dataset.ends);
    var serverNow = Date.parse(clock.dataset.now);
    if (isNaN(ends)) return;
    // The server's clock, not the student's: a wrong clock on the device changes nothing.
    var offset = isNaN(serverNow) ? 0 : serverNow - Date.now();
    var remaining = clock.querySelector(".quiz-remaining");
    var alert = clock.querySelector(".quiz-alert");
    var form = document.querySelector("form.answers");
    var drafts = null;
    if (form && clock.dataset.draftUrl && window.fetch) {
      drafts = setUpDrafts(form, clock.dataset.draftUrl, clock.querySelector(".quiz-draft"));
    }

    function left() {
      return Math.max(0, Math.ceil((ends - (Date.now() + offset)) / 1000));
    }

    // Warnings already past when the page loads are shown, not announced again.
    var start = left();
    var told = WARNINGS.map(function (w) {
      return start <= w.seconds;
    });
    var over = false;

    function tick() {
      var seconds = left();
      remaining.textContent = format(seconds);
      for (var i = 0; i < WARNINGS.length; i++) {
        if (seconds <= WARNINGS[i].seconds) {
          clock.dataset.warning = String(WARNINGS[i].seconds);
          if (!told[i] && seconds > 0) {
            told[i] = true;
            alert.textContent = WARNINGS[i].text;
          }
        }
      }
      if (seconds <= 0) {
        if (!over) {
          over = true;
          clock.dataset.state = "over";
          if (drafts) drafts.flush();
          stopTakingAnswers(form);
          alert.textContent = TIME_UP;
        }
        return;
      }
      // On the next whole second of what is left.
      var ms = (ends - (Date.now() + offset)) % 1000;
      window.setTimeout(tick, ms > 20 ? ms : 1000);
    }

    clock.dataset.state = "running";
    tick();
  }

  function start() {
    var clock = document.getElementById("quiz-clock");
    if (clock) setUpClock(clock);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
