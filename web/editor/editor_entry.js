// The workbench's code editor: CodeMirror 6 with Python highlighting, bundled by esbuild
// (`make vendor`) into build/vendor/codemirror.js, an ES module the page imports.

import { EditorView, basicSetup } from "codemirror";
import { python } from "@codemirror/lang-python";
import { keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import { Prec, StateEffect, StateField } from "@codemirror/state";
import { Decoration } from "@codemirror/view";

// One highlighted line (the line a Python error points at), cleared by any edit.
const setErrorLine = StateEffect.define();
const errorLineField = StateField.define({
  create: () => Decoration.none,
  update(decorations, tr) {
    decorations = decorations.map(tr.changes);
    for (const effect of tr.effects) {
      if (effect.is(setErrorLine)) {
        const line = effect.value;
        decorations = line == null ? Decoration.none
          : Decoration.set([Decoration.line({ class: "cm-error-line" }).range(line)]);
      }
    }
    return tr.docChanged ? Decoration.none : decorations;
  },
  provide: (field) => EditorView.decorations.from(field),
});

/**
 * createEditor(parent, {doc, onRun, onChange}) -> {view, getCode, setCode, markErrorLine, focus}.
 * Ctrl-Enter / Cmd-Enter calls onRun; onChange(code) after each edit.
 */
export function createEditor(parent, { doc = "", onRun = () => {}, onChange = () => {} } = {}) {
  const runKey = Prec.highest(keymap.of([
    { key: "Mod-Enter", run: () => (onRun(), true) },
    { key: "Shift-Enter", run: () => (onRun(), true) },
  ]));
  const view = new EditorView({
    parent,
    doc,
    extensions: [
      runKey,
      basicSetup,
      keymap.of([indentWithTab]),
      python(),
      errorLineField,
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange(update.state.doc.toString());
      }),
    ],
  });
  return {
    view,
    getCode: () => view.state.doc.toString(),
    setCode(code) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: code } });
    },
    /** Highlights 1-based line `lineNumber` (null clears) and scrolls it into view. */
    markErrorLine(lineNumber) {
      if (lineNumber == null || lineNumber < 1 || lineNumber > view.state.doc.lines) {
        view.dispatch({ effects: setErrorLine.of(null) });
        return;
      }
      const line = view.state.doc.line(lineNumber);
      view.dispatch({
        effects: [setErrorLine.of(line.from), EditorView.scrollIntoView(line.from, { y: "center" })],
      });
    },
    focus: () => view.focus(),
  };
}
