// The code editor: each <textarea data-code-editor> becomes a CodeMirror editor for
// Python, with line numbers, highlighting and indentation by four spaces. The textarea
// stays in the form, hidden, and holds the editor's text after every change, so the
// form posts what the student sees. Without JavaScript, or without the CodeMirror
// bundle (vendor/codemirror-*/codemirror.min.js, the global CM), it stays a plain
// text area.
//
// Tab indents inside the editor. CodeMirror's own way out for keyboard users: Escape,
// then Tab (or Shift+Tab) within two seconds, moves the focus on; a hint under the
// editor says so. (Ctrl+M, or Shift+Alt+M on a Mac, makes Tab move the focus until
// pressed again.)
//
// The API, for scripts that add editors later: CodeEditor.attach(textarea) returns its
// EditorView (attaching twice returns the same one), CodeEditor.attachAll(root) attaches
// every textarea[data-code-editor] under root, and CodeEditor.viewOf(textarea) returns
// the EditorView or null.
(function () {
  "use strict";

  var HINT = "Tab indents. To leave the editor, press Esc then Tab.";
  var views = typeof WeakMap === "function" ? new WeakMap() : null;

  // The text a screen reader announces for the editor: the textarea's own label.
  function labelOf(textarea) {
    if (textarea.getAttribute("aria-label")) return textarea.getAttribute("aria-label");
    var labels = textarea.labels || [];
    if (labels.length) return labels[0].textContent.replace(/\s+/g, " ").trim();
    return "Code";
  }

  function attach(textarea) {
    if (!window.CM || !views) return null;
    if (views.has(textarea)) return views.get(textarea);
    var CM = window.CM;

    var wrapper = document.createElement("div");
    wrapper.className = "code-editor";
    var hint = document.createElement("p");
    hint.className = "code-editor-hint hint";
    hint.id = (textarea.id || "code") + "-keys";
    hint.textContent = HINT;
    textarea.parentNode.insertBefore(wrapper, textarea.nextSibling);
    wrapper.parentNode.insertBefore(hint, wrapper.nextSibling);

    var described = [textarea.getAttribute("aria-describedby"), hint.id].filter(Boolean).join(" ");
    // tabindex: a contenteditable is focusable, but audits (axe's scrollable-region-
    // focusable) only count an explicit tabindex, and the editor's scroller, which
    // scrolls sideways on a phone, must hold something they see as focusable. It adds
    // no tab stop: the content is one already.
    var attributes = { "aria-label": labelOf(textarea), "aria-describedby": described, tabindex: "0" };
    if (textarea.getAttribute("aria-invalid")) attributes["aria-invalid"] = textarea.getAttribute("aria-invalid");

    var view = new CM.EditorView({
      parent: wrapper,
      state: CM.EditorState.create({
        doc: textarea.value,
        extensions: [
          CM.minimalSetup,
          CM.lineNumbers(),
          CM.highlightActiveLineGutter(),
          CM.highlightActiveLine(),
          CM.indentOnInput(),
          CM.bracketMatching(),
          CM.python(),
          CM.indentUnit.of("    "),
          CM.EditorState.tabSize.of(4),
          CM.keymap.of([CM.indentWithTab]),
          CM.EditorView.contentAttributes.of(attributes),
          CM.EditorView.updateListener.of(function (update) {
            if (update.docChanged) textarea.value = update.state.doc.toString();
          }),
        ],
      }),
    });

    // Hidden, the textarea still posts its value. A hidden `required` field would stop
    // the form with a message nobody can see; the server checks for an empty answer.
    textarea.hidden = true;
    textarea.required = false;
    wrapper.dataset.for = textarea.id || "";
    // Its label now leads to the editor.
    var labels = textarea.labels || [];
    for (var i = 0; i < labels.length; i++) {
      labels[i].addEventListener("click", function (event) {
        event.preventDefault();
        view.focus();
      });
    }
    if (textarea.hasAttribute("autofocus")) view.focus();

    views.set(textarea, view);
    return view;
  }

  function attachAll(root) {
    var found = (root || document).querySelectorAll("textarea[data-code-editor]");
    for (var i = 0; i < found.length; i++) {
      // Not in the admin's hidden empty form, which "Add another" copies.
      if (!found[i].closest(".empty-form")) attach(found[i]);
    }
  }

  function viewOf(textarea) {
    return (views && views.get(textarea)) || null;
  }

  window.CodeEditor = { attach: attach, attachAll: attachAll, viewOf: viewOf };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      attachAll(document);
    });
  } else {
    attachAll(document);
  }
})();
