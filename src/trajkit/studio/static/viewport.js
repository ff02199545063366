// The canvas's view of the image: zoom and pan on top of the fitted display.
//
// Conventions: the canvas element is sized to show the whole image ("fit"); at zoom z the image spans z times the
// canvas, its top-left corner at (ox, oy) CSS pixels from the canvas's top-left (ox, oy ≤ 0). A canvas position
// (cx, cy) in CSS pixels shows the image pixel ((cx − ox) / (z·bx), (cy − oy) / (z·by)) where bx, by are the
// fitted CSS pixels per image pixel along x and y. Everything the page stores stays in image pixels.

export const MAX_CSS_PER_IMAGE_PX = 16;  // zoom in until one image pixel is this many CSS pixels

export class Viewport {
  constructor() { this.zoom = 1; this.ox = 0; this.oy = 0; this.cssW = 1; this.cssH = 1; this.size = [1, 1]; }

  // the fitted canvas is cssW × cssH CSS pixels for an image of `size` (W, H); keeps the zoom, recentred
  resize(cssW, cssH, size) {
    const same = size[0] === this.size[0] && size[1] === this.size[1];
    const fx = cssW / this.cssW, fy = cssH / this.cssH;
    this.cssW = cssW; this.cssH = cssH; this.size = size;
    if (!same) { this.reset(); return; }
    this.ox *= fx; this.oy *= fy;
    this.clamp();
  }

  reset() { this.zoom = 1; this.ox = 0; this.oy = 0; }

  get bx() { return this.cssW / this.size[0]; }
  get by() { return this.cssH / this.size[1]; }
  get maxZoom() { return Math.max(1, MAX_CSS_PER_IMAGE_PX / Math.min(this.bx, this.by)); }
  // image pixels per CSS pixel at the current zoom
  get imagePerCss() { return 1 / (this.zoom * this.bx); }

  // CSS position in the canvas → image pixels
  toImage(cx, cy) { return [(cx - this.ox) / (this.zoom * this.bx), (cy - this.oy) / (this.zoom * this.by)]; }

  // image pixels → CSS position in the canvas
  toCanvas(x, y) { return [this.ox + x * this.zoom * this.bx, this.oy + y * this.zoom * this.by]; }

  // zoom by `factor` keeping the image point under (cx, cy) where it is
  zoomAt(cx, cy, factor) {
    const zoom = Math.min(this.maxZoom, Math.max(1, this.zoom * factor));
    const k = zoom / this.zoom;
    this.ox = cx - (cx - this.ox) * k;
    this.oy = cy - (cy - this.oy) * k;
    this.zoom = zoom;
    this.clamp();
  }

  panBy(dx, dy) { this.ox += dx; this.oy += dy; this.clamp(); }

  // the zoomed image always covers the canvas (no empty margins to get lost in)
  clamp() {
    this.ox = Math.min(0, Math.max(this.cssW * (1 - this.zoom), this.ox));
    this.oy = Math.min(0, Math.max(this.cssH * (1 - this.zoom), this.oy));
  }
}
