// The exercise admin's rows and inputs (exercises/authoring_widgets.py).
//
// Without this script the form works: each table has blank rows at its end, and a
// row left empty is dropped. With it:
// - "Add a …" appends a row from the table's <template>, and × removes one;
// - the plot shows only the inputs of the chosen kind of plot;
// - each part shows only the sections of its kind (options for a choice part, the code
//   block for a code part), unless a section holds an error;
// - code inputs become code editors (code-editor.js), in the parts added with
//   "Add another Part" too.
//
// A part added by the admin's "Add another Part" is a copy of a hidden empty form whose
// names hold `__prefix__`; the admin renames ids and names, but not the contents of a
// <template> nor data attributes, so a table's current name is read from its
// container's id, and the template's names are rewritten from it.
(function () {
  "use strict";

  function currentName(container) {
    return container.id.replace(/^id_/, "").replace(/-rows$/, "");
  }

  function addRow(button) {
    var container = button.closest(".authoring-table");
    var table = container.querySelector("table.authoring-rows");
    var template = container.querySelector("template.authoring-row-template");
    var written = table.getAttribute("data-rows");
    var name = currentName(container);
    var index = parseInt(table.getAttribute("data-next"), 10) || 0;
    table.setAttribute("data-next", String(index + 1));
    var html = template.innerHTML
      .split(written + "-__row__-").join(name + "-" + index + "-")
      .split("__row__").join(String(index + 1));
    var body = table.tBodies[0];
    var holder = document.createElement("tbody");
    holder.innerHTML = html;
    var row = holder.querySelector("tr");
    body.appendChild(row);
    showButtons(row);
    attachEditors(row);
    var first = row.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  function removeRow(button) {
    var row = button.closest("tr");
    var container = button.closest(".authoring-table");
    var next = row.nextElementSibling;
    if (next && next.classList.contains("authoring-row-error")) next.remove();
    var previous = row.previousElementSibling;
    row.remove();
    var focus = (previous && previous.querySelector("input, select, textarea")) ||
      container.querySelector("[data-add-row]");
    if (focus) focus.focus();
  }

  function showButtons(root) {
    var buttons = root.querySelectorAll("[data-add-row], [data-remove-row]");
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
    var hints = root.querySelectorAll(".authoring-nojs");
    for (var j = 0; j < hints.length; j++) hints[j].hidden = true;
  }

  function attachEditors(root) {
    if (!window.CodeEditor) return;
    var found = root.querySelectorAll("textarea[data-code-editor]");
    for (var i = 0; i < found.length; i++) {
      if (!found[i].closest(".empty-form, template")) window.CodeEditor.attach(found[i]);
    }
  }

  // ------------------------------------------------------------ the plot

  function showPlotInputs(select) {
    var widget = select.closest(".authoring");
    var box = widget.querySelector(".authoring-plot");
    var kind = select.value;
    box.setAttribute("data-kind", kind);
    var fields = box.querySelectorAll(".authoring-field");
    for (var i = 0; i < fields.length; i++) {
      var kinds = fields[i].getAttribute("data-kinds");
      var shown = kind !== "" && (!kinds || kinds.split(" ").indexOf(kind) >= 0);
      fields[i].hidden = !shown && !fields[i].querySelector(".errorlist");
    }
  }

  // ------------------------------------------------------------ a routine's arguments

  // Arguments only once a routine is chosen (unless they hold something, or an error).
  function showRoutineArguments(select) {
    var table = select.closest(".authoring").querySelector(".authoring-table");
    if (!table) return;
    var filled = Array.prototype.some.call(table.querySelectorAll("input"), function (input) {
      return input.value !== "";
    });
    table.hidden = select.value === "" && !filled && !table.querySelector(".errorlist");
  }

  // ------------------------------------------------------------ a part's sections

  var SECTIONS = {
    "authoring-for-choice": function (kind) { return kind === "choice"; },
    "authoring-for-code": function (kind) { return kind === "code"; },
    "authoring-for-maths": function (kind) { return kind !== "code" && kind !== "choice"; },
  };

  function showPartSections(select) {
    var part = select.closest(".inline-related");
    if (!part) return;
    var kind = select.value;
    Object.keys(SECTIONS).forEach(function (name) {
      var sections = part.querySelectorAll("fieldset." + name);
      for (var i = 0; i < sections.length; i++) {
        // A section that holds something, or an error, stays in view whatever the kind.
        var wanted = SECTIONS[name](kind) || sections[i].querySelector(".errorlist li") ||
          holdsSomething(sections[i]);
        sections[i].hidden = !wanted;
      }
    });
    var answers = part.querySelectorAll(".form-row.field-expected, .form-row.field-expected_routine");
    for (var j = 0; j < answers.length; j++) {
      answers[j].hidden = kind === "code" && !answers[j].querySelector(".errorlist li");
    }
  }

  function holdsSomething(section) {
    var inputs = section.querySelectorAll("input[type=text], textarea");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].value.trim() !== "") return true;
    }
    return false;
  }

  function kindSelects(root) {
    return root.querySelectorAll(".inline-related select[name$='-kind']");
  }

  function setUp(root) {
    showButtons(root);
    attachEditors(root);
    var plots = root.querySelectorAll(".authoring select[name$='plot-kind']");
    for (var i = 0; i < plots.length; i++) showPlotInputs(plots[i]);
    var routines = root.querySelectorAll(".authoring select[name$='expected_routine-routine']");
    for (var r = 0; r < routines.length; r++) showRoutineArguments(routines[r]);
    var kinds = kindSelects(root);
    for (var j = 0; j < kinds.length; j++) {
      if (!kinds[j].closest(".empty-form")) showPartSections(kinds[j]);
    }
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      event.preventDefault();
      addRow(add);
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      event.preventDefault();
      removeRow(remove);
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLSelectElement)) return;
    if (/plot-kind$/.test(target.name) && target.closest(".authoring")) showPlotInputs(target);
    else if (/^parts-\d+-kind$/.test(target.name)) showPartSections(target);
    else if (/expected_routine-routine$/.test(target.name)) showRoutineArguments(target);
  });

  // A folded section's code editor measures itself once it is seen.
  document.addEventListener("toggle", function (event) {
    if (!window.CodeEditor || !event.target.open) return;
    var areas = event.target.querySelectorAll("textarea[data-code-editor]");
    for (var i = 0; i < areas.length; i++) {
      var view = window.CodeEditor.viewOf(areas[i]);
      if (view) view.requestMeasure();
    }
  }, true);

  // ------------------------------------------------------------ checks as one types

  // A change posts the form with `_authoring_check` (nothing is saved); the answer, the
  // messages by input name and row (ExerciseAdmin.check_view), replaces those beside the
  // rows and inputs.
  var checkTimer = null;
  var checking = 0;

  function scheduleCheck(target) {
    var form = target.form;
    if (!form || !form.querySelector(".authoring")) return;
    if (checkTimer) clearTimeout(checkTimer);
    checkTimer = setTimeout(function () { check(form); }, 400);
  }

  function check(form) {
    var data = new FormData(form);
    data.append("_authoring_check", "1");
    var ticket = ++checking;
    fetch(window.location.href, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("check: " + response.status);
        return response.json();
      })
      .then(function (answer) {
        if (ticket === checking) show(form, answer.fields || {});
      })
      .catch(function () { /* The checks on saving still apply. */ });
  }

  function filledRows(table) {
    var rows = table.querySelectorAll("tbody > tr[data-row]");
    return Array.prototype.filter.call(rows, function (row) {
      return Array.prototype.some.call(row.querySelectorAll("input[type=text], textarea"), function (input) {
        return input.value.trim() !== "";
      });
    });
  }

  function messageList(items, id) {
    var list = document.createElement("ul");
    list.className = "errorlist";
    if (id) list.id = id;
    items.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
    return list;
  }

  function clearMessages(form) {
    var old = form.querySelectorAll(".authoring tr.authoring-row-error, .authoring-field > ul.errorlist, .authoring > ul.errorlist");
    for (var i = 0; i < old.length; i++) old[i].remove();
    var marked = form.querySelectorAll(".authoring [aria-invalid]");
    for (var j = 0; j < marked.length; j++) {
      marked[j].removeAttribute("aria-invalid");
      marked[j].removeAttribute("aria-describedby");
    }
    var rows = form.querySelectorAll(".authoring tr.authoring-invalid");
    for (var k = 0; k < rows.length; k++) rows[k].classList.remove("authoring-invalid");
  }

  function markRow(row, messages, id) {
    row.classList.add("authoring-invalid");
    var cells = row.querySelectorAll("input, select, textarea");
    for (var i = 0; i < cells.length; i++) {
      cells[i].setAttribute("aria-invalid", "true");
      cells[i].setAttribute("aria-describedby", id);
    }
    var line = document.createElement("tr");
    line.className = "authoring-row-error";
    var cell = document.createElement("td");
    cell.colSpan = row.children.length;
    cell.appendChild(messageList(messages, id));
    line.appendChild(cell);
    row.parentNode.insertBefore(line, row.nextSibling);
  }

  function show(form, fields) {
    clearMessages(form);
    Object.keys(fields).forEach(function (name) {
      var widget = document.getElementById("id_" + name);
      if (!widget || !widget.classList.contains("authoring")) return;
      var anchors = fields[name].anchors || {};
      Object.keys(anchors).forEach(function (anchor) {
        var id = "id_" + name + "-" + anchor + "-live-errors";
        var found = /^(?:(tests)-)?(\d+)$/.exec(anchor);
        if (found) {
          var table = document.getElementById("id_" + name + (found[1] ? "-tests" : "") + "-rows");
          var row = table && filledRows(table)[parseInt(found[2], 10)];
          if (row) { markRow(row, anchors[anchor], id); return; }
        } else {
          var input = document.getElementById("id_" + name + "-" + anchor);
          if (input && input.closest(".authoring-field")) {
            input.setAttribute("aria-invalid", "true");
            input.setAttribute("aria-describedby", id);
            input.closest(".authoring-field").appendChild(messageList(anchors[anchor], id));
            return;
          }
        }
        widget.appendChild(messageList(anchors[anchor]));
      });
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest(".authoring")) scheduleCheck(event.target);
  });

  // The admin's "Add another Part" (inlines.js sends formset:added from the new form).
  document.addEventListener("formset:added", function (event) {
    setUp(event.target);
    // A new part comes after the others.
    var order = event.target.querySelector("input[name$='-order']");
    if (order && (order.value === "" || order.value === "0")) {
      var parts = document.querySelectorAll(".inline-related:not(.empty-form) input[name$='-order']");
      var last = 0;
      for (var i = 0; i < parts.length; i++) last = Math.max(last, parseInt(parts[i].value, 10) || 0);
      order.value = String(last + 1);
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
})();
