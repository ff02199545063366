// The editor canvas: draws the image, the sampled tracks and the playhead, and turns pointer gestures into edits.
// Everything the page stores is in original-image pixels; the canvas only scales (viewport.js) for display.
// Zoom: the wheel (about the cursor), + / − / 0 keys. Pan: drag with the middle button, or with space held.

import { controlPoints, dist, pathLength, pointSegmentDistance } from "./geometry.js";
import { Labels } from "./labels.js";
import { Viewport } from "./viewport.js";

export const COLOURS = ["#ff5a5a", "#4fd67a", "#4f9dff", "#35d0d6", "#e05ae0", "#f0d040", "#ff9a3c", "#b08cff"];
const BRIDGED = { camera: "rgba(200,205,220,0.75)", entities: "rgba(255,170,60,0.9)" };

export class Editor {
  constructor(canvas, app) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.app = app;           // {doc, sampled, frame, selected, select(id), addTrack(t), live(doc), commit(doc)}
    this.image = null;
    this.size = [1, 1];
    this.tool = "select";
    this.gesture = null;
    this.hover = null;
    this.view = new Viewport();
    this.labels = new Labels();  // the frame labels of the last drawing (read by the browser tests)
    this.spaceHeld = false;
    this.panned = false;         // a pan happened while space was held (then releasing space does not play)
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointerleave", () => { this.hover = null; this.draw(); });
    canvas.addEventListener("dblclick", (e) => this.insertPoint(e));
    canvas.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    canvas.addEventListener("mousedown", (e) => { if (e.button === 1) e.preventDefault(); });  // no autoscroll
    new ResizeObserver(() => this.fit()).observe(canvas.parentElement);
  }

  setImage(image, width, height) {
    this.image = image;
    this.size = image ? [width, height] : [1, 1];
    this.view.reset();
    this.fit();
  }

  setTool(tool) { this.tool = tool; this.gesture = null; this.cursor(); }

  cursor() {
    const panning = this.gesture?.kind === "pan";
    this.canvas.style.cursor = panning ? "grabbing" : this.spaceHeld ? "grab"
      : this.tool === "select" ? "default" : "crosshair";
  }

  // space held: the next drag pans; returns on release whether it did (the page plays/pauses otherwise)
  holdSpace(down) {
    if (down && !this.spaceHeld) this.panned = false;
    this.spaceHeld = down;
    this.cursor();
    return this.panned;
  }

  zoomBy(factor, cx = this.view.cssW / 2, cy = this.view.cssH / 2) {
    this.view.zoomAt(cx, cy, factor);
    this.onview?.(this.view);
    this.draw();
  }

  fitView() { this.view.reset(); this.onview?.(this.view); this.draw(); }

  wheel(e) {
    if (!this.image) return;
    e.preventDefault();
    const step = e.deltaMode === 1 ? 40 * e.deltaY : e.deltaMode === 2 ? 800 * e.deltaY : e.deltaY;
    const r = this.canvas.getBoundingClientRect();
    this.zoomBy(Math.exp(-step * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }

  fit() {
    const wrap = this.canvas.parentElement;
    const [w, h] = this.size;
    const scale = Math.min((wrap.clientWidth - 16) / w, (wrap.clientHeight - 16) / h);
    const cssW = Math.max(1, Math.floor(w * scale)), cssH = Math.max(1, Math.floor(h * scale));
    const dpr = window.devicePixelRatio || 1;
    this.canvas.style.width = `${cssW}px`;
    this.canvas.style.height = `${cssH}px`;
    this.canvas.width = Math.round(cssW * dpr);
    this.canvas.height = Math.round(cssH * dpr);
    this.view.resize(cssW, cssH, this.size);
    this.onview?.(this.view);
    this.draw();
  }

  // image pixels per CSS pixel (at the current zoom)
  get pixelRatio() { return this.view.imagePerCss; }

  toImage(e) {
    const r = this.canvas.getBoundingClientRect();
    return this.view.toImage(e.clientX - r.left, e.clientY - r.top);
  }

  selectedTrack() { return this.app.doc.tracks.find((t) => t.id === this.app.selected) || null; }

  // nearest sampled point of any track: {index, owner, frame, d} (image px)
  nearest(p) {
    let best = null;
    (this.app.sampled?.tracks || []).forEach((t, index) => {
      t.xy.forEach((q, frame) => {
        if (!t.visible[frame]) return;
        const d = dist(p, q);
        if (!best || d < best.d) best = { index, owner: t, frame, d };
      });
    });
    return best;
  }

  down(e) {
    if (!this.image) return;
    this.canvas.setPointerCapture(e.pointerId);
    if (e.button === 1 || (e.button === 0 && this.spaceHeld)) {
      this.gesture = { kind: "pan", last: [e.clientX, e.clientY] };
      this.panned = true;
      this.cursor();
      return;
    }
    if (e.button !== 0) return;
    const p = this.toImage(e);
    const near = 8 * this.pixelRatio;
    if (this.tool === "free") { this.gesture = { kind: "stroke", points: [p] }; return; }
    if (this.tool === "static") { this.app.addTrack({ kind: "static", point: p }); return; }
    if (this.tool === "circle") {
      const r = Math.round(0.08 * Math.min(...this.size));
      this.app.addTrack({ kind: "circle", center: p, radius_start: r, radius_end: Math.round(r * 1.6), count: 4 });
      return;
    }
    const track = this.selectedTrack();
    if (this.tool === "falloff") {
      if (track) this.gesture = { kind: "falloff", start: p, now: p, frame: this.app.frame };
      return;
    }
    if (track) {  // select tool: grab a handle of the selected track (Alt+click removes a control point)
      let hit = -1;  // the nearest handle within reach (a small circle's radius handles sit near its centre)
      handlesOf(track).forEach((h, i) => { if (dist(h, p) <= near && (hit < 0 || dist(h, p) < dist(handlesOf(track)[hit], p))) hit = i; });
      if (hit >= 0 && e.altKey && track.kind === "path" && track.points.length > 1) {
        this.app.commit(replaceTrack(this.app.doc, { ...track, points: track.points.filter((_, i) => i !== hit) }));
        return;
      }
      if (hit >= 0) { this.gesture = { kind: "handle", index: hit, start: p, base: JSON.parse(JSON.stringify(track)) }; return; }
    }
    const hit = this.nearest(p);
    this.app.select(hit && hit.d <= near && hit.owner.source === "track" ? hit.owner.id : null);
  }

  move(e) {
    if (!this.image) return;
    const g = this.gesture;
    if (g?.kind === "pan") {
      this.view.panBy(e.clientX - g.last[0], e.clientY - g.last[1]);
      g.last = [e.clientX, e.clientY];
      this.draw();
      return;
    }
    const p = this.toImage(e);
    if (g?.kind === "stroke") {
      if (dist(p, g.points[g.points.length - 1]) >= 0.5) g.points.push(p);
      this.draw();
      return;
    }
    if (g?.kind === "handle") {
      const moved = moveHandle(g.base, g.index, [p[0] - g.start[0], p[1] - g.start[1]]);
      this.app.live(replaceTrack(this.app.doc, moved));
      return;
    }
    if (g?.kind === "falloff") { g.now = p; this.draw(); return; }
    const hit = this.nearest(p);
    this.hover = hit && hit.d <= 8 * this.pixelRatio ? hit : null;
    this.draw();
  }

  up(e) {
    const g = this.gesture;
    this.gesture = null;
    if (!g) return;
    if (g.kind === "pan") { this.cursor(); this.onview?.(this.view); return; }
    if (g.kind === "stroke") {
      const points = g.points;
      if (points.length >= 2 && pathLength(points) >= 3) {
        const eps = Math.max(0.75, 1.5 * this.pixelRatio);
        this.app.addTrack({ kind: "path", points: controlPoints(points, eps).map(roundPoint) });
      } else this.draw();
    } else if (g.kind === "handle") {
      this.app.commit(this.app.doc);
    } else if (g.kind === "falloff") {
      const track = this.selectedTrack();
      const dx = g.now[0] - g.start[0], dy = g.now[1] - g.start[1];
      if (track && Math.hypot(dx, dy) > 0.5) {
        const edited = { ...track, edits: [...(track.edits || []), { frame: g.frame, dx: round2(dx), dy: round2(dy) }] };
        this.app.commit(replaceTrack(this.app.doc, edited));
      } else this.draw();
    }
  }

  // double-click on the selected path between two control points: insert one there
  insertPoint(e) {
    const track = this.selectedTrack();
    if (this.tool !== "select" || !track || track.kind !== "path" || track.points.length < 2) return;
    const p = this.toImage(e);
    let best = null;
    for (let i = 0; i + 1 < track.points.length; i++) {
      const d = pointSegmentDistance(p, track.points[i], track.points[i + 1]);
      if (!best || d < best.d) best = { i, d };
    }
    if (!best || best.d > 12 * this.pixelRatio) return;
    const points = [...track.points.slice(0, best.i + 1), roundPoint(p), ...track.points.slice(best.i + 1)];
    this.app.commit(replaceTrack(this.app.doc, { ...track, points }));
  }

  draw() {
    const { ctx, canvas, view } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    this.labels.clear();
    if (!this.image) return;
    const rx = canvas.width / view.cssW, ry = canvas.height / view.cssH;  // device pixels per CSS pixel
    ctx.setTransform(rx * view.zoom * view.bx, 0, 0, ry * view.zoom * view.by, rx * view.ox, ry * view.oy);
    ctx.imageSmoothingEnabled = view.zoom * view.bx < 4;  // zoomed far in: show the image's pixels as they are
    ctx.drawImage(this.image, 0, 0, this.size[0], this.size[1]);
    const unit = view.imagePerCss;  // one CSS pixel in image pixels
    const frame = this.app.frame;
    const sampled = this.app.sampled?.tracks || [];
    const order = new Map(this.app.doc.tracks.map((t, i) => [t.id, i]));
    const texts = [];  // labels drawn last, in CSS pixels: {text, at (image px), normal, force}
    sampled.forEach((t) => {
      const colour = t.source === "track" ? COLOURS[order.get(t.id) % COLOURS.length] : BRIDGED[t.source];
      const selected = t.source === "track" && t.id === this.app.selected;
      ctx.strokeStyle = colour;
      ctx.lineWidth = (selected ? 3 : t.source === "track" ? 2 : 1) * unit;
      ctx.setLineDash(t.source === "track" ? [] : [4 * unit, 3 * unit]);
      ctx.beginPath();
      let open = false;
      t.xy.forEach((q, f) => {
        if (!t.visible[f]) { open = false; return; }
        if (open) ctx.lineTo(q[0], q[1]); else ctx.moveTo(q[0], q[1]);
        open = true;
      });
      ctx.stroke();
      ctx.setLineDash([]);
      const q = t.xy[Math.min(frame, t.xy.length - 1)];
      if (q) {
        ctx.beginPath();
        ctx.arc(q[0], q[1], (t.source === "track" ? 5 : 3) * unit, 0, 2 * Math.PI);
        if (t.visible[Math.min(frame, t.xy.length - 1)]) { ctx.fillStyle = colour; ctx.fill(); }
        ctx.lineWidth = 1.5 * unit; ctx.strokeStyle = "#000"; ctx.stroke();
      }
      if (selected) texts.push(...this.frameTicks(t, unit));
    });
    const track = this.selectedTrack();
    if (track) texts.unshift(...this.drawHandles(track, unit));
    const g = this.gesture;
    if (g?.kind === "stroke") {
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 2 * unit; ctx.beginPath();
      g.points.forEach((p, i) => (i ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1])));
      ctx.stroke();
    }
    if (g?.kind === "falloff") {
      ctx.strokeStyle = "#fff"; ctx.setLineDash([5 * unit, 4 * unit]); ctx.lineWidth = 2 * unit;
      ctx.beginPath(); ctx.moveTo(...g.start); ctx.lineTo(...g.now); ctx.stroke(); ctx.setLineDash([]);
    }
    if (this.hover) {
      const { owner, frame: f } = this.hover;
      const q = owner.xy[f];
      texts.push({ text: `frame ${f} · (${q[0].toFixed(1)}, ${q[1].toFixed(1)})`, at: q, normal: [0.7, -0.7], force: true });
    }
    ctx.setTransform(rx, 0, 0, ry, 0, 0);  // labels in CSS pixels: the same size at every zoom
    for (const { text, at, normal, force } of texts) this.labels.place(ctx, text, view.toCanvas(...at), normal, force);
  }

  // dots at every 10th frame of the selected track; their labels (the playhead, first and last frames first)
  frameTicks(t, unit) {
    const { ctx } = this;
    const last = t.xy.length - 1;
    const frames = [];
    t.xy.forEach((q, f) => {
      if (!t.visible[f] || (f % 10 && f !== this.app.frame && f !== last)) return;
      ctx.fillStyle = "#fff";
      ctx.beginPath(); ctx.arc(q[0], q[1], 2 * unit, 0, 2 * Math.PI); ctx.fill();
      frames.push(f);
    });
    const rank = (f) => (f === this.app.frame ? 0 : f === 0 || f === last ? 1 : 2);
    frames.sort((a, b) => rank(a) - rank(b) || a - b);
    return frames.map((f) => ({ text: String(f), at: t.xy[f], normal: sideways(t.xy, f) }));
  }

  // the selected track's handles; a circle's radius handles sit on its start and end circles, labelled
  drawHandles(track, unit) {
    const { ctx } = this;
    const handles = handlesOf(track);
    ctx.fillStyle = "#fff"; ctx.strokeStyle = "#000"; ctx.lineWidth = unit;
    const [c, ...radii] = track.kind === "circle" ? handles : [null];
    for (const h of track.kind === "circle" ? [c] : handles) {
      ctx.fillRect(h[0] - 4 * unit, h[1] - 4 * unit, 8 * unit, 8 * unit);
      ctx.strokeRect(h[0] - 4 * unit, h[1] - 4 * unit, 8 * unit, 8 * unit);
    }
    if (track.kind !== "circle") return [];
    const last = this.app.doc.frames - 1;
    ctx.setLineDash([3 * unit, 3 * unit]); ctx.strokeStyle = "#fff";
    for (const r of [track.radius_start, track.radius_end]) {
      ctx.beginPath(); ctx.arc(c[0], c[1], r, 0, 2 * Math.PI); ctx.stroke();
    }
    ctx.setLineDash([]);
    for (const h of radii) {
      ctx.beginPath(); ctx.arc(h[0], h[1], 5 * unit, 0, 2 * Math.PI);
      ctx.fillStyle = "#fff"; ctx.fill(); ctx.strokeStyle = "#000"; ctx.lineWidth = 1.5 * unit; ctx.stroke();
    }
    const outward = (h) => { const d = Math.hypot(h[0] - c[0], h[1] - c[1]) || 1; return [(h[0] - c[0]) / d, (h[1] - c[1]) / d]; };
    return [
      { text: `frame 0 · r ${Math.round(track.radius_start)}`, at: radii[0], normal: outward(radii[0]), force: true },
      { text: `frame ${last} · r ${Math.round(track.radius_end)}`, at: radii[1], normal: outward(radii[1]), force: true },
    ];
  }
}

// a unit vector across the track's motion at frame f (upwards or rightwards when it could be either)
function sideways(xy, f) {
  const a = xy[Math.max(0, f - 1)], b = xy[Math.min(xy.length - 1, f + 1)];
  const dx = b[0] - a[0], dy = b[1] - a[1], d = Math.hypot(dx, dy);
  if (d < 1e-6) return [0.7071, -0.7071];
  const n = [-dy / d, dx / d];
  return n[1] > 1e-6 || (Math.abs(n[1]) <= 1e-6 && n[0] < 0) ? [-n[0], -n[1]] : n;
}

const round2 = (v) => Math.round(v * 100) / 100;
const roundPoint = (p) => [round2(p[0]), round2(p[1])];

// where a circle's radius handles sit: between its points (never on one), the start and end apart even at r0 = r1
function radiusAngles(track) {
  const step = 2 * Math.PI / Math.max(1, track.count);
  const a = (track.angle || 0) * Math.PI / 180;
  return [a + 0.35 * step, a + 0.65 * step];
}

// draggable handles of a track, in image pixels (a circle: centre, start radius, end radius)
export function handlesOf(track) {
  if (track.kind === "path") return track.points;
  if (track.kind === "static") return [track.point];
  if (track.kind === "circle") {
    const [c, [a0, a1]] = [track.center, radiusAngles(track)];
    return [c, [c[0] + track.radius_start * Math.cos(a0), c[1] + track.radius_start * Math.sin(a0)],
      [c[0] + track.radius_end * Math.cos(a1), c[1] + track.radius_end * Math.sin(a1)]];
  }
  return [];
}

function moveHandle(track, index, delta) {
  const shift = (p) => roundPoint([p[0] + delta[0], p[1] + delta[1]]);
  if (track.kind === "path") return { ...track, points: track.points.map((p, i) => (i === index ? shift(p) : p)) };
  if (track.kind === "static") return { ...track, point: shift(track.point) };
  if (track.kind === "circle" && index === 0) return { ...track, center: shift(track.center) };
  if (track.kind === "circle") {  // a radius handle: the new radius is its distance from the centre
    const h = shift(handlesOf(track)[index]);
    const r = round2(Math.max(1, dist(h, track.center)));
    return { ...track, [index === 1 ? "radius_start" : "radius_end"]: r };
  }
  return track;
}

export function replaceTrack(doc, track) {
  return { ...doc, tracks: doc.tracks.map((t) => (t.id === track.id ? track : t)) };
}

export function shiftTrack(track, dx, dy, id) {
  const shift = (p) => roundPoint([p[0] + dx, p[1] + dy]);
  const copy = { ...JSON.parse(JSON.stringify(track)), id };
  if (copy.kind === "path") copy.points = copy.points.map(shift);
  if (copy.kind === "static") copy.point = shift(copy.point);
  if (copy.kind === "circle") copy.center = shift(copy.center);
  if (copy.kind === "sampled") copy.xy = copy.xy.map(shift);
  return copy;
}
