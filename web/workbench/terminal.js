// The workbench's output: text rendered as a terminal renders it. "\r" returns to the start of
// the line (Keras's progress bar redraws one line instead of printing thousands), "\n" ends it,
// and SGR escapes (bold, colours) become styled spans; other escapes are dropped.

const MAX_LINES = 5000;
const SGR_CLASSES = { 1: "t-bold", 31: "t-red", 32: "t-green", 33: "t-yellow", 34: "t-blue",
  35: "t-magenta", 36: "t-cyan", 37: "t-dim", 90: "t-dim" };
// A CSI sequence: ESC [ params final-byte.
const CSI = /^\x1b\[([0-9;]*)([@-~])/;
const PARTIAL_CSI = /^\x1b(\[[0-9;]*)?$/;

export class Terminal {
  constructor(element) {
    this.element = element;
    this.cells = []; // the current line: [{ch, cls}]
    this.cursor = 0;
    this.style = "";
    this.pending = null; // an escape sequence split across writes
    this.currentDiv = null;
    this.frame = 0;
  }

  /** Appends `text` of `stream` ("stdout", "stderr" or "system") and redraws. */
  write(text, stream = "stdout") {
    if (this.pending) text = this.pending + text, (this.pending = null);
    const base = stream === "stdout" ? "" : `t-${stream}`;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === "\x1b") {
        const match = CSI.exec(text.slice(i, i + 32));
        if (!match) {
          // The start of a sequence whose end comes with the next write: keep it for then.
          if (PARTIAL_CSI.test(text.slice(i))) {
            this.pending = text.slice(i);
            break;
          }
          continue;
        }
        if (match[2] === "m") this.applySGR(match[1]);
        i += match[0].length - 1;
      } else if (ch === "\r") this.cursor = 0;
      else if (ch === "\n") this.newline();
      else if (ch === "\b") this.cursor = Math.max(0, this.cursor - 1);
      else {
        this.cells[this.cursor++] = { ch, cls: [base, this.style].filter(Boolean).join(" ") };
      }
    }
    this.schedule();
  }

  applySGR(params) {
    for (const code of (params || "0").split(";").map(Number)) {
      if (code === 0) this.style = "";
      else if (SGR_CLASSES[code]) this.style = SGR_CLASSES[code];
    }
  }

  newline() {
    this.render(true); // an empty line too

    this.currentDiv = null;
    this.cells = [];
    this.cursor = 0;
    while (this.element.childElementCount > MAX_LINES) this.element.firstElementChild.remove();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Draws the current line (the finished ones are already in the DOM). */
  render(evenEmpty = false) {
    if (!this.cells.length && !this.currentDiv && !evenEmpty) return;
    const stick = this.element.scrollHeight - this.element.scrollTop - this.element.clientHeight < 40;
    if (!this.currentDiv) {
      this.currentDiv = document.createElement("div");
      this.currentDiv.className = "t-line";
      this.element.append(this.currentDiv);
    }
    const spans = [];
    let run = null;
    for (const cell of this.cells) {
      const c = cell || { ch: " ", cls: "" };
      if (run && run.cls === c.cls) run.text += c.ch;
      else spans.push((run = { cls: c.cls, text: c.ch }));
    }
    this.currentDiv.replaceChildren(...spans.map(({ cls, text }) => {
      if (!cls) return document.createTextNode(text);
      const span = document.createElement("span");
      span.className = cls;
      span.textContent = text;
      return span;
    }));
    if (stick) this.element.scrollTop = this.element.scrollHeight;
  }

  /** A whole block (an error, a notice) on lines of its own. */
  block(text, stream) {
    if (this.cells.length || this.currentDiv) this.newline();
    this.write(text.endsWith("\n") ? text : `${text}\n`, stream);
  }

  clear() {
    this.element.replaceChildren();
    this.cells = [];
    this.cursor = 0;
    this.currentDiv = null;
    this.style = "";
    this.pending = null;
  }

  /** The text as shown (tests read it). */
  text() {
    return [...this.element.children].map((div) => div.textContent).join("\n");
  }
}
