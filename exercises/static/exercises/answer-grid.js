// A grid of input cells for a vector or matrix answer, beside its text box.
//
// The text box stays the answer: the form sends it, and it works without JavaScript.
// The grid only writes the brackets for the student, "[a, b, c]" for a vector (shown as
// a column) or "[[a, b], [c, d]]" for a matrix, and fills itself from the box when what
// is typed there has the grid's shape. The arrow keys move between cells: left and right
// at either end of a cell's text, up and down between rows.
(function () {
  "use strict";

  // The entries of "[a, b]" or "(a, b)", split at the commas outside any bracket; null
  // when the text is not one bracketed list.
  function splitList(text) {
    text = text.trim();
    var open = text.charAt(0);
    var close = { "[": "]", "(": ")" }[open];
    if (!close || text.charAt(text.length - 1) !== close) return null;
    var inner = text.slice(1, -1);
    var items = [];
    var depth = 0;
    var start = 0;
    for (var i = 0; i < inner.length; i++) {
      var ch = inner.charAt(i);
      if (ch === "(" || ch === "[" || ch === "{") depth++;
      else if (ch === ")" || ch === "]" || ch === "}") {
        depth--;
        if (depth < 0) return null;
      } else if (ch === "," && depth === 0) {
        items.push(inner.slice(start, i).trim());
        start = i + 1;
      }
    }
    if (depth !== 0) return null;
    items.push(inner.slice(start).trim());
    return items;
  }

  // The cells' values, row by row, that `text` spells for a grid of rows x cols; null
  // when it spells something else.
  function readText(text, rows, cols, vector) {
    if (!text.trim()) return [];
    var outer = splitList(text);
    if (!outer) return null;
    var values = [];
    var nested = outer.every(function (item) {
      return item.charAt(0) === "[";
    });
    if (vector) {
      // [a, b, c], (a, b, c), or the column [[a], [b], [c]].
      var entries = outer;
      if (nested) {
        entries = [];
        for (var k = 0; k < outer.length; k++) {
          var single = splitList(outer[k]);
          if (!single || single.length !== 1) return null;
          entries.push(single[0]);
        }
      }
      return entries.length === rows ? entries : null;
    }
    if (!nested || outer.length !== rows) return null;
    for (var r = 0; r < rows; r++) {
      var row = splitList(outer[r]);
      if (!row || row.length !== cols) return null;
      values = values.concat(row);
    }
    return values;
  }

  function writeText(cells, rows, cols, vector) {
    var values = cells.map(function (cell) {
      return cell.value.trim();
    });
    if (values.every(function (v) { return !v; })) return "";
    if (vector) return "[" + values.join(", ") + "]";
    var lines = [];
    for (var r = 0; r < rows; r++) lines.push("[" + values.slice(r * cols, (r + 1) * cols).join(", ") + "]");
    return "[" + lines.join(", ") + "]";
  }

  function setUp(input) {
    var match = /^(\d+)(?:x(\d+))?$/.exec(input.dataset.shape || "");
    if (!match) return;
    var vector = match[2] === undefined;
    var rows = parseInt(match[1], 10);
    var cols = vector ? 1 : parseInt(match[2], 10);
    var label = document.querySelector('label[for="' + input.id + '"]');
    var name = label ? label.textContent.trim() : "the answer";

    var grid = document.createElement("div");
    grid.className = "answer-grid";
    grid.setAttribute("role", "group");
    grid.setAttribute(
      "aria-label",
      name + ", entry by entry (" + (vector ? rows + " entries" : rows + " by " + cols) + ")"
    );
    grid.style.gridTemplateColumns = "repeat(" + cols + ", minmax(3.5rem, 8rem))";
    var cells = [];
    for (var r = 0; r < rows; r++) {
      for (var c = 0; c < cols; c++) {
        var cell = document.createElement("input");
        cell.type = "text";
        cell.className = "grid-cell";
        cell.autocomplete = "off";
        cell.spellcheck = false;
        cell.setAttribute("autocapitalize", "off");
        cell.dataset.row = r;
        cell.dataset.col = c;
        // No name: the cells are never sent, the text box is.
        cell.setAttribute(
          "aria-label",
          vector ? "Entry " + (r + 1) : "Row " + (r + 1) + ", column " + (c + 1)
        );
        cells.push(cell);
        grid.appendChild(cell);
      }
    }
    input.parentNode.insertBefore(grid, input.nextSibling);

    var writing = false;
    function fillFromText() {
      var values = readText(input.value, rows, cols, vector);
      grid.dataset.sync = values ? "yes" : "no";
      if (!values) return;
      cells.forEach(function (cell, i) {
        cell.value = values[i] || "";
      });
    }
    fillFromText();

    input.addEventListener("input", function () {
      if (!writing) fillFromText();
    });
    grid.addEventListener("input", function (event) {
      event.stopPropagation();
      input.value = writeText(cells, rows, cols, vector);
      grid.dataset.sync = "yes";
      writing = true;
      // The preview and anything else listening hear the change as typing.
      input.dispatchEvent(new Event("input", { bubbles: true }));
      writing = false;
    });
    grid.addEventListener("keydown", function (event) {
      var cell = event.target;
      if (!cell.classList || !cell.classList.contains("grid-cell")) return;
      var r = parseInt(cell.dataset.row, 10);
      var c = parseInt(cell.dataset.col, 10);
      var atStart = cell.selectionStart === 0 && cell.selectionEnd === 0;
      var atEnd = cell.selectionStart === cell.value.length;
      var index = r * cols + c;
      var target = null;
      if (event.key === "ArrowUp" && r > 0) target = index - cols;
      else if (event.key === "ArrowDown" && r < rows - 1) target = index + cols;
      else if (event.key === "ArrowLeft" && atStart && index > 0) target = index - 1;
      else if (event.key === "ArrowRight" && atEnd && index < cells.length - 1) target = index + 1;
      if (target === null) return;
      event.preventDefault();
      cells[target].focus();
      cells[target].select();
    });
  }

  function start() {
    var inputs = document.querySelectorAll("input.answer-input[data-shape]");
    for (var i = 0; i < inputs.length; i++) setUp(inputs[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
