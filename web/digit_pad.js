// A drawing pad for digits, shared by /predict and /handwriting: white strokes on a black
// canvas, read back as MNIST reads digits (28x28 floats in [0, 1]).
//
//   const pad = new DigitPad(canvas, { onStroke: (phase) => ... }); // "start" | "move" | "end"
//   const image = pad.toMNIST();        // Float32Array(784), or null when the pad is blank
//   drawPreview(previewCanvas, image);  // what the model sees, on a 28x28 canvas
//   pad.clear();

export const SIDE = 28; // MNIST: 28x28 images, the digit fitted in a 20x20 box centred by mass
const BOX = 20;
const STROKE = 20; // px on the 280 px pad: about MNIST's stroke width once scaled down

export class DigitPad {
  constructor(canvas, { onStroke } = {}) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d", { willReadFrequently: true });
    this.onStroke = onStroke;
    this.drawing = false;
    this.lastPoint = null;
    canvas.addEventListener("pointerdown", (event) => {
      this.drawing = true;
      this.lastPoint = null;
      canvas.setPointerCapture(event.pointerId);
      this.strokeTo(this.point(event));
      this.onStroke?.("start");
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!this.drawing) return;
      this.strokeTo(this.point(event));
      this.onStroke?.("move");
    });
    for (const type of ["pointerup", "pointercancel"]) {
      canvas.addEventListener(type, () => {
        if (!this.drawing) return;
        this.drawing = false;
        this.lastPoint = null;
        this.onStroke?.("end");
      });
    }
    this.clear();
  }

  clear() {
    this.context.fillStyle = "#000";
    this.context.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * (this.canvas.width / rect.width),
      (event.clientY - rect.top) * (this.canvas.height / rect.height)];
  }

  strokeTo(point) {
    const pad = this.context;
    pad.strokeStyle = "#fff";
    pad.fillStyle = "#fff";
    pad.lineWidth = STROKE;
    pad.lineCap = "round";
    pad.lineJoin = "round";
    pad.beginPath();
    if (this.lastPoint) {
      pad.moveTo(...this.lastPoint);
      pad.lineTo(...point);
      pad.stroke();
    } else {
      pad.arc(point[0], point[1], STROKE / 2, 0, 2 * Math.PI);
      pad.fill();
    }
    this.lastPoint = point;
  }

  /**
   * The pad as MNIST sees digits: the ink's bounding box scaled (area average) into a 20x20
   * box, placed in 28x28 so that its centre of mass is at the centre. null when blank.
   */
  toMNIST() {
    const { width, height } = this.canvas;
    const pixels = this.context.getImageData(0, 0, width, height).data;
    let [x0, y0, x1, y1] = [width, height, -1, -1];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (pixels[4 * (y * width + x)] > 0) {
          x0 = Math.min(x0, x); x1 = Math.max(x1, x);
          y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) return null;
    // A square box around the ink, so the digit keeps its aspect ratio.
    const side = Math.max(x1 - x0, y1 - y0) + 1;
    const left = x0 - (side - (x1 - x0 + 1)) / 2;
    const top = y0 - (side - (y1 - y0 + 1)) / 2;
    const sums = new Float32Array(BOX * BOX);
    const counts = new Float32Array(BOX * BOX);
    for (let y = Math.max(0, Math.floor(top)); y < Math.min(height, top + side); y++) {
      const row = Math.min(BOX - 1, Math.floor(((y - top) * BOX) / side));
      for (let x = Math.max(0, Math.floor(left)); x < Math.min(width, left + side); x++) {
        const col = Math.min(BOX - 1, Math.floor(((x - left) * BOX) / side));
        sums[row * BOX + col] += pixels[4 * (y * width + x)] / 255;
        counts[row * BOX + col] += 1;
      }
    }
    let mass = 0, cx = 0, cy = 0;
    for (let i = 0; i < BOX * BOX; i++) {
      const value = counts[i] ? sums[i] / side ** 2 * BOX * BOX : 0;
      sums[i] = value;
      mass += value;
      cx += value * (i % BOX);
      cy += value * Math.floor(i / BOX);
    }
    // Shift so the centre of mass lands on the image centre (as MNIST was made).
    const dx = Math.round((SIDE - 1) / 2 - cx / mass);
    const dy = Math.round((SIDE - 1) / 2 - cy / mass);
    const image = new Float32Array(SIDE * SIDE);
    for (let i = 0; i < BOX * BOX; i++) {
      const x = (i % BOX) + dx, y = Math.floor(i / BOX) + dy;
      if (x >= 0 && x < SIDE && y >= 0 && y < SIDE) image[y * SIDE + x] = Math.min(1, sums[i]);
    }
    return image;
  }
}

/** Draws a 28x28 image (floats in [0, 1]) on a 28x28 canvas. */
export function drawPreview(canvas, image) {
  const context = canvas.getContext("2d");
  const data = context.createImageData(SIDE, SIDE);
  image.forEach((value, i) => {
    data.data.set([value * 255, value * 255, value * 255, 255], 4 * i);
  });
  context.putImageData(data, 0, 0);
}
