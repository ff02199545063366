// The editor canvas: draws the image, the sampled tracks and the playhead, and turns pointer gestures into edits.
// Everything the page stores is in original-image pixels; the canvas only scales for display.

import { controlPoints, dist, pathLength, pointSegmentDistance } from "./geometry.js";

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
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointerleave", () => { this.hover = null; this.draw(); });
    canvas.addEventListener("dblclick", (e) => this.insertPoint(e));
    new ResizeObserver(() => this.fit()).observe(canvas.parentElement);
  }

  setImage(image, width, height) { this.image = image; this.size = [width, height]; this.fit(); }

  setTool(tool) { this.tool = tool; this.gesture = null; this.canvas.style.cursor = tool === "select" ? "default" : "crosshair"; }

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
    this.draw();
  }

  // image pixels per CSS pixel
  get pixelRatio() { return this.size[0] / this.canvas.getBoundingClientRect().width; }

  toImage(e) {
    const r = this.canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * this.size[0] / r.width, (e.clientY - r.top) * this.size[1] / r.height];
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
      const handles = handlesOf(track);
      const hit = handles.findIndex((h) => dist(h, p) <= near);
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
    const p = this.toImage(e);
    const g = this.gesture;
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
    const { ctx, canvas } = this;
    const k = canvas.width / this.size[0];
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!this.image) return;
    ctx.setTransform(k, 0, 0, k, 0, 0);
    ctx.drawImage(this.image, 0, 0, this.size[0], this.size[1]);
    const unit = 1 / k * (window.devicePixelRatio || 1);  // one CSS pixel in image pixels
    const frame = this.app.frame;
    const sampled = this.app.sampled?.tracks || [];
    const order = new Map(this.app.doc.tracks.map((t, i) => [t.id, i]));
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
      if (selected) this.frameTicks(t, unit);
    });
    const track = this.selectedTrack();
    if (track) {
      ctx.fillStyle = "#fff"; ctx.strokeStyle = "#000"; ctx.lineWidth = unit;
      for (const h of handlesOf(track)) {
        ctx.fillRect(h[0] - 4 * unit, h[1] - 4 * unit, 8 * unit, 8 * unit);
        ctx.strokeRect(h[0] - 4 * unit, h[1] - 4 * unit, 8 * unit, 8 * unit);
      }
      if (track.kind === "circle") {
        ctx.setLineDash([3 * unit, 3 * unit]); ctx.strokeStyle = "#fff";
        for (const r of [track.radius_start, track.radius_end]) {
          ctx.beginPath(); ctx.arc(track.center[0], track.center[1], r, 0, 2 * Math.PI); ctx.stroke();
        }
        ctx.setLineDash([]);
      }
    }
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
      label(ctx, `frame ${f} · (${q[0].toFixed(1)}, ${q[1].toFixed(1)})`, q[0] + 8 * unit, q[1] - 8 * unit, unit);
    }
  }

  // frame indices along the selected track: every 10th frame and the playhead
  frameTicks(t, unit) {
    const { ctx } = this;
    t.xy.forEach((q, f) => {
      if (!t.visible[f] || (f % 10 && f !== this.app.frame)) return;
      ctx.fillStyle = "#fff";
      ctx.beginPath(); ctx.arc(q[0], q[1], 2 * unit, 0, 2 * Math.PI); ctx.fill();
      label(ctx, String(f), q[0] + 4 * unit, q[1] + 12 * unit, unit);
    });
  }
}

function label(ctx, text, x, y, unit) {
  ctx.font = `${12 * unit}px system-ui, sans-serif`;
  const w = ctx.measureText(text).width;
  ctx.fillStyle = "rgba(0,0,0,0.65)";
  ctx.fillRect(x - 2 * unit, y - 11 * unit, w + 4 * unit, 14 * unit);
  ctx.fillStyle = "#fff";
  ctx.fillText(text, x, y);
}

const round2 = (v) => Math.round(v * 100) / 100;
const roundPoint = (p) => [round2(p[0]), round2(p[1])];

// draggable handles of a track, in image pixels
export function handlesOf(track) {
  if (track.kind === "path") return track.points;
  if (track.kind === "static") return [track.point];
  if (track.kind === "circle") return [track.center];
  return [];
}

function moveHandle(track, index, delta) {
  const shift = (p) => roundPoint([p[0] + delta[0], p[1] + delta[1]]);
  if (track.kind === "path") return { ...track, points: track.points.map((p, i) => (i === index ? shift(p) : p)) };
  if (track.kind === "static") return { ...track, point: shift(track.point) };
  if (track.kind === "circle") return { ...track, center: shift(track.center) };
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
