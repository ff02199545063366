// Text labels on the canvas that do not cover each other: each is placed beside its anchor, away from the line it
// names (or on another free side), and skipped when every side would overlap a label already placed (so put the
// important ones first). Only a forced label (the hover read-out) may cover others.
// Coordinates are CSS pixels of the canvas; the context must be drawing in CSS pixels.

const FONT = "12px system-ui, sans-serif";
const HEIGHT = 16;  // CSS px: 12 px text with padding
const PAD = 4;
const GAP = 6;      // between the anchor and the label's nearest side

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

export class Labels {
  constructor() { this.placed = []; }

  clear() { this.placed = []; }

  // Draw `text` beside `anchor` [x, y], its box pushed out along the unit vector `normal` — or, where that side is
  // taken, along the next free one of: normal turned +90°, −90°, reversed. `force` draws it even when no side is
  // free (on its first side). Returns whether it was drawn.
  place(ctx, text, anchor, normal, force = false) {
    ctx.font = FONT;
    const w = ctx.measureText(text).width + 2 * PAD;
    const [nx, ny] = normal;
    const sides = [[nx, ny], [-ny, nx], [ny, -nx], [-nx, -ny]].map(([ux, uy]) => {
      const cx = anchor[0] + ux * (GAP + w / 2), cy = anchor[1] + uy * (GAP + HEIGHT / 2);
      return { x: cx - w / 2, y: cy - HEIGHT / 2, w, h: HEIGHT, text, anchor: [...anchor] };
    });
    const box = sides.find((b) => !this.placed.some((p) => overlaps(p, b))) ?? (force ? sides[0] : null);
    if (!box) return false;
    this.placed.push(box);
    ctx.fillStyle = "rgba(0,0,0,0.72)";
    ctx.fillRect(box.x, box.y, box.w, box.h);
    ctx.fillStyle = "#fff";
    ctx.textBaseline = "middle";
    ctx.fillText(text, box.x + PAD, box.y + HEIGHT / 2 + 0.5);
    return true;
  }
}
