// The exercise admin's preview while editing (exercises/authoring_preview.py): the form
// as it stands is sent, a moment after each change, and the reply shows how the engine
// reads each part's expected answer and known mistakes (beside those fields) and the
// exercise for the chosen seed; answers tried against that variant get the engine's
// verdict beside them. A code answer runs in the sandbox on the code queue: its verdict
// is polled for. On the staff preview page, the verdicts of code answers are polled too.
(function () {
  "use strict";

  var KATEX_OPTIONS = {
    output: "htmlAndMathml",
    throwOnError: false,
    strict: "ignore",
    trust: false,
    maxExpand: 200,
    displayMode: false,
  };
  var DELIMITERS = [
    { left: "$$", right: "$$", display: true },
    { left: "\\[", right: "\\]", display: true },
    { left: "\\(", right: "\\)", display: false },
  ];
  var DELAY = 600;
  var POLL_EVERY = 1000;
  var POLL_TRIES = 300;

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function renderMaths(root) {
    if (!root || typeof window.renderMathInElement !== "function") return;
    root.querySelectorAll(".maths").forEach(function (el) {
      try {
        window.renderMathInElement(el, {
          delimiters: DELIMITERS,
          throwOnError: false,
          strict: "ignore",
          trust: false,
          maxExpand: 200,
        });
      } catch (e) {
        // The text stays as typed.
      }
    });
  }

  function latexInto(el, latex) {
    if (window.katex) {
      try {
        window.katex.render(latex, el, KATEX_OPTIONS);
        return;
      } catch (e) {
        // Fall through: the LaTeX itself.
      }
    }
    el.textContent = latex;
  }

  function token() {
    var input = document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function send(url, body) {
    return fetch(url, {
      method: body ? "POST" : "GET",
      body: body || undefined,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token(), "X-Requested-With": "fetch" },
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return { messages: ["The server answered " + response.status + "."] };
        })
        .then(function (data) {
          return { status: response.status, data: data };
        });
    });
  }

  // ------------------------------------------------------------------ verdicts

  var WORDS = {
    correct: ["\u2713", "Correct"],
    incorrect: ["\u2717", "Not correct"],
    invalid: ["?", "Not read"],
    error: ["!", "The exercise is at fault"],
    unanswered: ["\u2013", "Not answered"],
    pending: ["\u2026", "Running"],
  };

  // The same markup as a student's verdict beside an answer (_part_verdict.html).
  function showVerdict(box, verdict) {
    clear(box);
    box.dataset.state = verdict.status || "";
    // The run this box waits for: an earlier run's verdict, polled for still, must not
    // replace that of answers tried since.
    box.dataset.poll = verdict.status === "pending" && verdict.poll ? verdict.poll : "";
    var words = WORDS[verdict.status] || ["?", verdict.status || "No verdict"];
    var body = make("span", "part-verdict-body result-" + verdict.status);
    var tag = make("strong", "tag");
    var icon = make("span", "icon", words[0]);
    icon.setAttribute("aria-hidden", "true");
    tag.appendChild(icon);
    tag.appendChild(document.createTextNode(" " + words[1]));
    body.appendChild(tag);
    if (verdict.mistake) body.appendChild(make("span", "authoring-mistake", " (a known mistake)"));
    if (verdict.message && verdict.message !== "Correct.") {
      body.appendChild(document.createTextNode(" "));
      body.appendChild(make("span", "message maths", verdict.message));
    }
    box.appendChild(body);
    if (verdict.tests && verdict.tests.length) {
      var list = make("ul", "authoring-tests");
      verdict.tests.forEach(function (test) {
        var item = make("li", test.passed ? "passed" : "failed");
        item.textContent = (test.passed ? "\u2713 " : "\u2717 ") + (test.name || "test") +
          (test.message ? ": " + test.message : "");
        list.appendChild(item);
      });
      if (verdict.hidden && verdict.hidden.total) {
        list.appendChild(make("li", verdict.hidden.passed === verdict.hidden.total ? "passed" : "failed",
          "Hidden tests: " + verdict.hidden.passed + " of " + verdict.hidden.total + " passed"));
      }
      box.appendChild(list);
    }
    renderMaths(box);
    if (verdict.status === "pending" && verdict.poll) poll(box, verdict.poll, 0);
  }

  function poll(box, url, tries) {
    if (box.dataset.poll !== url) return;
    if (tries > POLL_TRIES) {
      showVerdict(box, { status: "invalid", message: "No verdict came back: try again." });
      return;
    }
    window.setTimeout(function () {
      send(url)
        .then(function (reply) {
          var verdict = reply.data || {};
          if (box.dataset.poll !== url) return;
          if (verdict.status === "pending") poll(box, url, tries + 1);
          else showVerdict(box, verdict);
        })
        .catch(function () {
          poll(box, url, tries + 1);
        });
    }, POLL_EVERY);
  }

  // The staff preview page: code answers submitted there run on the code queue.
  document.querySelectorAll(".staff-preview-polls li").forEach(function (item) {
    var box = document.getElementById("verdict-" + item.dataset.part);
    if (!box) return;
    box.dataset.poll = item.dataset.poll;
    poll(box, item.dataset.poll, 0);
  });

  // ------------------------------------------------------------------ the change form

  var panel = document.getElementById("authoring-preview");
  var form = document.getElementById("exercise_form");
  if (!panel || !form || !window.fetch || !window.FormData) return;
  var seedInput = document.getElementById("authoring-seed");
  var status = document.getElementById("authoring-status");
  var messages = document.getElementById("authoring-messages");
  var slot = document.getElementById("authoring-variant");
  var sent = 0;
  var timer = null;

  // The form is long and the preview is under it: a way down from the top.
  var jump = make("p", "authoring-jump");
  var link = make("a", "", "Preview while editing (under the form) \u2193");
  link.href = "#authoring-preview";
  jump.appendChild(link);
  form.insertBefore(jump, form.firstChild);

  function formData() {
    var data = new FormData(form);
    data.set("preview_seed", (seedInput.value || "0").trim());
    return data;
  }

  function showMessages(list) {
    clear(messages);
    (list || []).forEach(function (text) {
      messages.appendChild(make("li", "", text));
    });
    messages.hidden = !list || !list.length;
  }

  // Beside a field of the form (its row in the admin): a box for the engine's reading.
  function readingBox(field, name) {
    var row = field.closest(".form-row") || field.parentNode;
    var box = row.querySelector(".authoring-reading[data-field='" + name + "']");
    if (!box) {
      box = make("div", "authoring-reading");
      box.dataset.field = name;
      box.setAttribute("aria-live", "polite");
      row.appendChild(box);
    }
    box.dataset.fresh = "1";
    return box;
  }

  // "Expected answer, seed 2: (10)x reads as 10x", or why the engine refuses it.
  function oneReading(container, label, reading) {
    var line = make("div", "authoring-read " + (reading.ok ? "read-ok" : "read-refused"));
    line.appendChild(make("span", "authoring-read-label", label));
    if (reading.text !== undefined) {
      line.appendChild(make("code", "authoring-read-text", reading.text));
    }
    if (reading.ok) {
      line.appendChild(document.createTextNode(" reads as "));
      var maths = make("span", "authoring-read-maths");
      latexInto(maths, reading.latex);
      line.appendChild(maths);
    } else {
      line.appendChild(document.createTextNode(reading.text !== undefined ? " cannot be read: " : " "));
      var refused = make("span", "authoring-read-message");
      var icon = make("span", "icon", "\u2717 ");
      icon.setAttribute("aria-hidden", "true");
      refused.appendChild(icon);
      refused.appendChild(document.createTextNode(reading.message || "Not read."));
      line.appendChild(refused);
    }
    container.appendChild(line);
    return line;
  }

  function showReadings(readings, seed) {
    form.querySelectorAll(".authoring-reading").forEach(function (box) {
      box.dataset.fresh = "";
    });
    Object.keys(readings || {}).forEach(function (prefix) {
      var part = readings[prefix];
      var expectedField = form.querySelector("[name='" + prefix + "-expected']");
      if (expectedField && part.expected) {
        var box = readingBox(expectedField, "expected");
        clear(box);
        box.dataset.state = part.expected.ok ? "ok" : "refused";
        oneReading(box, "Expected answer, seed " + seed + ": ", part.expected);
      }
      // The JSON text area, or the rows of inputs that stand for it (authoring-rows.js).
      var mistakesField =
        form.querySelector("[name='" + prefix + "-mistakes']") ||
        document.getElementById("id_" + prefix + "-mistakes");
      if (mistakesField && part.mistakes && part.mistakes.length) {
        var list = readingBox(mistakesField, "mistakes");
        clear(list);
        list.dataset.state = part.mistakes.every(function (m) { return m.ok; }) ? "ok" : "refused";
        part.mistakes.forEach(function (mistake, i) {
          var line = oneReading(list, "Known mistake " + (i + 1) + ", seed " + seed + ": ", mistake);
          if (mistake.says) line.appendChild(make("span", "authoring-says", " \u2192 \u201c" + mistake.says + "\u201d"));
          if (mistake.caught && !mistake.caught.ok) {
            line.className = "authoring-read read-refused";
            list.dataset.state = "refused";
            line.appendChild(make("span", "authoring-not-caught", " \u2717 Not caught: " + mistake.caught.message + "."));
          }
        });
      }
    });
    form.querySelectorAll(".authoring-reading").forEach(function (box) {
      if (!box.dataset.fresh) box.parentNode.removeChild(box);
    });
  }

  // What the author typed into the tried answers, kept across a new rendering.
  function typedAnswers() {
    var kept = {};
    slot.querySelectorAll("form.authoring-try [name]").forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") kept[el.name + "=" + el.value] = el.checked;
      else kept[el.name] = el.value;
    });
    return kept;
  }

  function restoreAnswers(kept) {
    slot.querySelectorAll("form.authoring-try [name]").forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        var key = el.name + "=" + el.value;
        if (key in kept) el.checked = kept[key];
      } else if (el.name in kept) {
        el.value = kept[el.name];
      }
    });
  }

  function refresh() {
    window.clearTimeout(timer);
    var mine = ++sent;
    status.textContent = "Reading the form…";
    panel.dataset.state = "busy";
    send(panel.dataset.readUrl, formData())
      .then(function (reply) {
        if (mine !== sent) return;
        var data = reply.data || {};
        showMessages(data.messages);
        showReadings(data.readings, data.seed);
        if (data.ok && data.html) {
          var kept = typedAnswers();
          var sameSeed = slot.firstElementChild && slot.firstElementChild.dataset.seed === String(data.seed);
          slot.innerHTML = data.html; // rendered by the server's template, escaped there
          if (sameSeed) restoreAnswers(kept);
          renderMaths(slot);
          status.textContent = "Seed " + data.seed + ", as the form stands (not saved).";
          panel.dataset.state = "ok";
        } else {
          clear(slot);
          status.textContent = reply.status >= 400 && !data.readings
            ? "No preview: " + ((data.messages || [])[0] || "the server refused it.")
            : "No preview until the form is valid: see the messages.";
          panel.dataset.state = "invalid";
        }
      })
      .catch(function () {
        if (mine === sent) {
          status.textContent = "The preview could not be reached.";
          panel.dataset.state = "invalid";
        }
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DELAY);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  // Rows added or removed by buttons change the form without an input event.
  form.addEventListener("click", function (event) {
    if (event.target.closest("a, button")) later();
  });

  document.getElementById("authoring-show").addEventListener("click", refresh);
  document.getElementById("authoring-another").addEventListener("click", function () {
    var current = seedInput.value;
    var next = current;
    while (next === current) next = String(Math.floor(Math.random() * 1000000));
    seedInput.value = next;
    refresh();
  });
  seedInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      refresh();
    }
  });

  panel.addEventListener("click", function (event) {
    var pick = event.target.closest(".authoring-pick");
    if (!pick) return;
    seedInput.value = pick.dataset.seed;
    refresh();
  });

  panel.addEventListener("submit", function (event) {
    var tryForm = event.target.closest("form.authoring-try");
    if (!tryForm) return;
    event.preventDefault();
    var data = formData();
    new FormData(tryForm).forEach(function (value, name) {
      data.append(name, value);
    });
    var boxes = tryForm.querySelectorAll(".authoring-verdict");
    boxes.forEach(function (box) {
      clear(box);
      box.dataset.state = "busy";
      box.dataset.poll = "";
    });
    send(panel.dataset.tryUrl, data)
      .then(function (reply) {
        var result = reply.data || {};
        if (!result.ok) {
          showMessages(result.messages);
          boxes.forEach(function (box) {
            showVerdict(box, { status: "invalid", message: "Not graded: see the messages above." });
          });
          return;
        }
        boxes.forEach(function (box) {
          var verdict = result.verdicts[box.dataset.part];
          if (verdict) showVerdict(box, verdict);
        });
      })
      .catch(function () {
        boxes.forEach(function (box) {
          showVerdict(box, { status: "invalid", message: "The preview could not be reached." });
        });
      });
  });

  refresh();
})();
