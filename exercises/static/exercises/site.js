// The students' pages in the browser: maths rendered by KaTeX, a live preview of how
// each answer is read, running a code part's visible tests, and a verdict that arrives
// by itself. Every part is an
// addition: without JavaScript the forms submit and the pages refresh as before.
(function () {
  "use strict";

  // KaTeX never runs commands that reach outside the maths (trust: false), and a
  // macro cannot expand without bound, whoever wrote the text.
  // Its output is HTML for the eye and, beside it, MathML that screen readers read
  // (the HTML is aria-hidden).
  var KATEX_OPTIONS = {
    output: "htmlAndMathml",
    throwOnError: false,
    strict: "ignore",
    trust: false,
    maxExpand: 200,
  };
  var DELIMITERS = [
    { left: "$$", right: "$$", display: true },
    { left: "\\[", right: "\\]", display: true },
    { left: "\\(", right: "\\)", display: false },
  ];

  function options(extra) {
    var result = {};
    var key;
    for (key in KATEX_OPTIONS) result[key] = KATEX_OPTIONS[key];
    for (key in extra) result[key] = extra[key];
    return result;
  }

  // Renders the maths in every .maths element under root (root included).
  function renderMaths(root) {
    if (!root || typeof window.renderMathInElement !== "function") return;
    var targets = [];
    if (root.classList && root.classList.contains("maths")) targets.push(root);
    var found = root.querySelectorAll(".maths");
    for (var i = 0; i < found.length; i++) {
      // A .maths inside another is rendered with it.
      if (!found[i].parentElement || !found[i].parentElement.closest(".maths")) targets.push(found[i]);
    }
    targets.forEach(function (el) {
      try {
        window.renderMathInElement(el, options({ delimiters: DELIMITERS }));
      } catch (e) {
        // The text stays as typed: readable, if not pretty.
      }
    });
  }

  // ------------------------------------------------------------------ live preview

  var PREVIEW_DELAY = 250;
  var MAX_ANSWER = 1000;
  // Beyond this, a query string risks the server's request-line limit.
  var MAX_QUERY = 3500;

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  function span(className, text) {
    var el = document.createElement("span");
    el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function showEmpty(box) {
    clear(box);
    box.dataset.state = "empty";
  }

  // "xy reads as x·y": how letters typed together were split, said in words too, so
  // that a product is not mistaken for one name (and a screen reader hears it).
  function showReadings(box, readings) {
    if (!readings || !readings.length) return;
    var p = document.createElement("p");
    p.className = "preview-reading";
    p.appendChild(document.createTextNode("Letters typed together: "));
    readings.forEach(function (reading, i) {
      if (i) p.appendChild(document.createTextNode("; "));
      var code = document.createElement("code");
      code.textContent = reading.typed;
      p.appendChild(code);
      p.appendChild(document.createTextNode(" reads as "));
      p.appendChild(span("preview-split", reading.read));
    });
    p.appendChild(document.createTextNode("."));
    box.appendChild(p);
  }

  function showLatex(box, latex, readings) {
    clear(box);
    box.dataset.state = "ok";
    box.appendChild(span("preview-label", "You typed: "));
    var maths = span("preview-maths");
    box.appendChild(maths);
    showReadings(box, readings);
    if (window.katex) {
      try {
        window.katex.render(latex, maths, options({ displayMode: false }));
        return;
      } catch (e) {
        // Fall through: show the LaTeX itself.
      }
    }
    maths.textContent = latex;
  }

  function showMessage(box, state, message, answer, column) {
    clear(box);
    box.dataset.state = state;
    var p = document.createElement("p");
    p.className = "preview-message";
    p.textContent = message;
    box.appendChild(p);
    if (!column || !answer) return;
    // Columns count characters (code points), as the parser does.
    var chars = Array.from(answer);
    var at = Math.min(column, chars.length + 1) - 1;
    var code = document.createElement("code");
    code.className = "preview-source";
    code.setAttribute("aria-hidden", "true");
    code.appendChild(document.createTextNode(chars.slice(0, at).join("")));
    var mark = document.createElement("mark");
    mark.className = "preview-marker";
    mark.textContent = at < chars.length ? chars[at] : "\u00a0";
    code.appendChild(mark);
    code.appendChild(document.createTextNode(chars.slice(at + 1).join("")));
    box.appendChild(code);
  }

  function setUpPreview(input, url) {
    var key = input.dataset.part;
    var box = document.getElementById("preview-" + key);
    if (!box || !window.fetch) return;
    var timer = null;
    var controller = null;
    var sent = 0;
    var pausedUntil = 0;

    function send() {
      var answer = input.value;
      if (!answer.trim()) {
        if (controller) controller.abort();
        sent++;
        showEmpty(box);
        return;
      }
      var query = "?part=" + encodeURIComponent(key) + "&answer=" + encodeURIComponent(answer);
      if (Array.from(answer).length > MAX_ANSWER || query.length > MAX_QUERY) {
        sent++;
        showMessage(box, "invalid", "The answer is too long to preview (at most " + MAX_ANSWER + " characters).");
        return;
      }
      if (Date.now() < pausedUntil) return;
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      var mine = ++sent;
      fetch(url + query, {
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-Requested-With": "fetch" },
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          if (response.redirected) throw new Error("signed out");
          return response.json().then(function (data) {
            return { status: response.status, data: data };
          });
        })
        .then(function (reply) {
          // Only the answer as it is now: a slow reply to older typing is dropped.
          if (mine !== sent) return;
          var data = reply.data || {};
          if (reply.status === 429) {
            pausedUntil = Date.now() + 60000;
            showMessage(box, "paused", data.message || "The preview pauses for a minute.");
          } else if (reply.status !== 200 || data.empty) {
            showEmpty(box);
          } else if (data.ok) {
            showLatex(box, data.latex, data.readings);
          } else {
            showMessage(box, "invalid", data.message, answer, data.column);
          }
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") return;
          if (mine === sent) showEmpty(box);
        });
    }

    // The server's reason for refusing this answer, shown under the input: the preview
    // would only say it again. Once the student types, the preview speaks instead.
    var refused = document.getElementById("error-" + key);
    input.addEventListener("input", function () {
      if (refused) {
        refused.hidden = true;
        input.removeAttribute("aria-invalid");
        if (input.parentNode.classList) input.parentNode.classList.remove("has-error");
        refused = null;
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(send, PREVIEW_DELAY);
    });
    // The answer kept from the last attempt is previewed too.
    if (input.value.trim() && !refused) send();
  }

  function setUpPreviews() {
    var form = document.querySelector("form[data-preview-url]");
    if (!form) return;
    var url = form.dataset.previewUrl;
    var inputs = form.querySelectorAll("input.answer-input[data-part]");
    for (var i = 0; i < inputs.length; i++) setUpPreview(inputs[i], url);
  }

  // ------------------------------------------------------------------ running the tests

  // "Run the visible tests" under a code part: posts the form's answers with the part's
  // key, then polls the run until its feedback is ready and puts it under the editor.
  // It costs no attempt and grades nothing; without JavaScript it is not offered.
  var RUN_FINAL = { done: true, failed: true, delayed: true };

  function showRun(box, state, message) {
    clear(box);
    box.dataset.state = state;
    var p = document.createElement("p");
    p.className = "run-message";
    p.textContent = message;
    box.appendChild(p);
  }

  function setUpRun(form, url, button) {
    var key = button.dataset.part;
    var box = document.getElementById("run-" + key);
    if (!box) return;
    var busy = false;

    function finish() {
      busy = false;
      button.disabled = false;
    }

    function poll(resultUrl, delay, started) {
      window.setTimeout(function () {
        fetch(resultUrl, {
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-Requested-With": "fetch" },
        })
          .then(function (response) {
            if (response.redirected) throw new Error("signed out");
            if (!response.ok) throw new Error("HTTP " + response.status);
            return response.json();
          })
          .then(function (data) {
            if (!RUN_FINAL[data.status]) {
              // Quick at first, then backing off to every 5 s, for at most 5 minutes.
              if (Date.now() - started > 5 * 60 * 1000) {
                showRun(box, "failed", "The tests are taking too long to run. Try again later.");
                finish();
                return;
              }
              poll(resultUrl, Math.min(delay * 1.5, 5000), started);
              return;
            }
            clear(box);
            box.dataset.state = data.status;
            if (data.html) {
              box.innerHTML = data.html;
              renderMaths(box);
            } else {
              showRun(box, data.status, data.status === "done" ? "Done." : "The tests could not be run. Try again later.");
            }
            finish();
          })
          .catch(function (error) {
            showRun(
              box,
              "failed",
              error && error.message === "signed out"
                ? "You are signed out: reload the page to run the tests."
                : "The tests could not be run. Try again later."
            );
            finish();
          });
      }, delay);
    }

    button.addEventListener("click", function () {
      if (busy) return;
      busy = true;
      button.disabled = true;
      var data = new FormData(form);
      data.set("part", key);
      showRun(box, "running", "Running…");
      fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-Requested-With": "fetch" },
      })
        .then(function (response) {
          if (response.redirected) throw new Error("signed out");
          return response.json().then(function (body) {
            return { status: response.status, body: body || {} };
          });
        })
        .then(function (reply) {
          var body = reply.body;
          if (reply.status === 202 && body.url) {
            poll(body.url, 500, Date.now());
            return;
          }
          if (reply.status === 422) {
            // The source cannot be run: the message names the line and the column.
            showRun(box, "invalid", body.error || "Your code cannot be read.");
          } else if (reply.status === 429) {
            var wait = parseInt(body.retry_after, 10);
            var when = wait > 0 ? " You can run them again in " + wait + " second" + (wait === 1 ? "" : "s") + "." : "";
            showRun(box, "paused", (body.error || "Too many runs for now.") + when);
          } else {
            showRun(box, "failed", body.error || "The tests could not be run. Try again later.");
          }
          finish();
        })
        .catch(function (error) {
          showRun(
            box,
            "failed",
            error && error.message === "signed out"
              ? "You are signed out: reload the page to run the tests."
              : "The tests could not be run. Try again later."
          );
          finish();
        });
    });

    // Offered only now that it can work.
    var controls = button.closest(".run-controls");
    if (controls) controls.hidden = false;
    button.hidden = false;
  }

  function setUpRuns() {
    var form = document.querySelector("form.answers[data-run-url]");
    if (!form || !window.fetch || !window.FormData) return;
    var buttons = form.querySelectorAll("button.run-tests[data-part]");
    for (var i = 0; i < buttons.length; i++) setUpRun(form, form.dataset.runUrl, buttons[i]);
  }

  // ------------------------------------------------------------------ verdict

  // Follows a submission being graded: fetches its verdict with growing pauses and puts
  // it in place, so the student never reloads. The region is busy while grading, so a
  // screen reader hears one short summary when the verdict arrives, not every poll.
  function followVerdict() {
    var box = document.getElementById("verdict");
    if (!box || !box.dataset.poll || !window.fetch) return;
    var announcer = document.getElementById("verdict-announcer");
    var url = box.dataset.poll;
    // A verdict usually comes within a tenth of a second of the submission: the first
    // look is soon, so that the student sees it about as soon as it is recorded.
    var delay = 150;
    var started = Date.now();
    var toldSlow = false;

    function announce(text) {
      if (announcer && text) announcer.textContent = text;
    }

    function arrived(status, summary) {
      box.setAttribute("aria-busy", "false");
      announce(summary);
      // Keyboard and screen-reader users land on the verdict, unless they have moved on.
      if (!document.activeElement || document.activeElement === document.body) {
        box.focus({ preventScroll: true });
      }
      document.dispatchEvent(new CustomEvent("verdict:arrived", { detail: status }));
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (response.redirected) {
            announce("You are signed out: reload the page to see the verdict.");
            return null;
          }
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          if (html === null) return;
          var template = document.createElement("template");
          template.innerHTML = html;
          var verdict = template.content.querySelector(".verdict[data-status]");
          if (!verdict) throw new Error("not a verdict");
          var status = verdict.dataset.status;
          box.innerHTML = html;
          renderMaths(box);
          if (status === "queued" || status === "grading") {
            if (!toldSlow && box.querySelector(".slow")) {
              toldSlow = true;
              announce(box.querySelector(".slow").textContent);
            }
            schedule();
          } else {
            arrived(status, verdict.dataset.summary || "");
          }
        })
        .catch(schedule);
    }

    function schedule() {
      // Quick at first, then backing off (x1.5) to every 10 s: a slow queue costs little,
      // and a busy server is not asked more often the busier it gets.
      delay = Math.min(delay * 1.5, 10000);
      if (Date.now() - started > 30 * 60 * 1000) return;
      window.setTimeout(poll, delay);
    }

    window.setTimeout(poll, delay);
  }

  // For the page's other scripts (feedback.js) that put maths in place.
  window.courseSite = { renderMaths: renderMaths };

  function start() {
    renderMaths(document.body);
    setUpPreviews();
    setUpRuns();
    followVerdict();
  }

  // Deferred scripts run in order before DOMContentLoaded, so KaTeX is there by now.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
