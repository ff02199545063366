// The studio page: project, document, history, timeline, tabs, preview and export. The canvas lives in canvas.js.

import { ApiError, blob, json, projectUrl, upload } from "./api.js";
import { COLOURS, Editor, replaceTrack, shiftTrack } from "./canvas.js";
import { History } from "./history.js";

const $ = (id) => document.getElementById(id);
// a new track id: the kind's initial and 8 random base-36 characters (the document's id pattern)
const newId = (kind) => `${kind[0]}${Math.random().toString(36).slice(2, 10)}`;
const EMPTY = { version: 1, frames: 81, fps: 16, prompt: "", tracks: [], camera: null, entities: null };
const TEMPLATES = {
  straight: { length: 4, direction: 90 }, arc: { radius: 3, degrees: 90, direction: 90 },
  turn: { degrees: 90, leg: 2, direction: 0 }, spin: { degrees: 360, direction: 0 },
  circle: { radius: 2 }, zigzag: { length: 6, width: 1, count: 3, direction: 90 },
};

const state = {
  // sampledFor: the document `sampled` was computed from (=== doc once the latest edit is sampled)
  project: null, doc: structuredClone(EMPTY), sampled: null, sampledFor: null, frame: 0, selected: null,
  revision: null, dirty: false, history: new History(), sampleSeq: 0, playing: false,
};

const app = {
  get doc() { return state.doc; },
  get sampled() { return state.sampled; },
  get frame() { return state.frame; },
  get selected() { return state.selected; },
  select(id) { state.selected = id; refresh(); },
  addTrack(spec) {
    const id = newId(spec.kind);
    const track = { id, name: "", pan: [0, 0], edits: [], ...spec };
    if (spec.kind === "path") Object.assign(track, { speed: "linear", start: 0, end: null, closed: false });
    if (spec.kind === "static") Object.assign(track, { start: 0, end: null });
    if (spec.kind === "circle") Object.assign(track, { angle: 0, speed: "linear" });
    state.selected = id;
    commit({ ...state.doc, tracks: [...state.doc.tracks, track] });
  },
  live(doc) { state.doc = doc; requestSample(); editor.draw(); },
  commit(doc) { commit(doc); },
};
const editor = new Editor($("canvas"), app);
window.studio = { state, app, editor };  // read by the browser tests

function status(text, error = false) { $("status").textContent = text; $("status").style.color = error ? "#ff7b7b" : ""; }

function report(err) {
  console.error(err);
  status(err instanceof ApiError ? err.message : String(err), true);
}

function commit(doc) {
  state.doc = doc;
  if (state.history.push(doc)) state.dirty = true;
  requestSample();
  refresh();
}

async function requestSample() {
  if (!state.project) return;
  const seq = ++state.sampleSeq;
  const doc = state.doc;
  try {
    const sampled = await json("POST", projectUrl(state.project.id, "/sample"), { document: doc });
    if (seq === state.sampleSeq) { state.sampled = sampled; state.sampledFor = doc; editor.draw(); }
  } catch (err) { if (seq === state.sampleSeq) report(err); }
}

// ------------------------------------------------------------------ page state → widgets
function refresh() {
  const doc = state.doc;
  $("save").disabled = !state.project;
  $("render").disabled = !state.project;
  $("undo").disabled = !state.history.canUndo;
  $("redo").disabled = !state.history.canRedo;
  $("frames").value = doc.frames;
  $("fps").value = doc.fps;
  $("timeline").max = doc.frames - 1;
  state.frame = Math.min(state.frame, doc.frames - 1);
  showFrame();
  const list = $("track-list");
  list.replaceChildren(...doc.tracks.map((t, i) => {
    const li = document.createElement("li");
    li.dataset.id = t.id;
    li.className = t.id === state.selected ? "selected" : "";
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = COLOURS[i % COLOURS.length];
    li.append(swatch, `${i}: ${t.name || t.kind}`);
    li.addEventListener("click", () => app.select(t.id));
    return li;
  }));
  const track = doc.tracks.find((t) => t.id === state.selected);
  $("track-props").disabled = !track;
  $("speed").disabled = $("speed-curve").disabled = !track || !("speed" in track);
  $("speed").value = track && "speed" in track ? (Array.isArray(track.speed) ? "custom" : track.speed) : "linear";
  $("speed-curve").value = track && Array.isArray(track.speed) ? track.speed.join(", ") : "";
  $("start").value = track && "start" in track ? track.start : "";
  $("end").value = track && "start" in track ? (track.end ?? doc.frames) : "";
  $("start").disabled = $("end").disabled = !track || !("start" in track);
  $("track-props").querySelector(".circle-only").classList.toggle("hidden", track?.kind !== "circle");
  if (track?.kind === "circle") {
    $("radius-start").value = track.radius_start; $("radius-end").value = track.radius_end; $("count").value = track.count;
  }
  editor.draw();
}

function updateSelected(patch) {
  const track = state.doc.tracks.find((t) => t.id === state.selected);
  if (track) commit(replaceTrack(state.doc, { ...track, ...patch }));
}

// ------------------------------------------------------------------ projects
async function openProject(id) {
  try {
    const project = await json("GET", projectUrl(id));
    const image = new Image();
    image.src = projectUrl(id, "/image");
    await image.decode();
    state.project = project;
    state.revision = project.revision;
    state.doc = project.document;
    state.selected = null;
    state.frame = 0;
    state.dirty = false;
    state.history.reset(state.doc);
    $("project-name").value = project.name;
    $("hint").classList.add("hidden");
    editor.setImage(image, project.image.width, project.image.height);
    if (location.hash !== `#${id}`) history.replaceState(null, "", `#${id}`);
    loadControlsIntoForms();
    status(`${project.name}: ${project.image.width}×${project.image.height}, revision ${project.revision}`);
    refresh();
    await requestSample();
  } catch (err) { report(err); }
}

async function save() {
  if (!state.project) return;
  try {
    const saved = await json("PUT", projectUrl(state.project.id), {
      document: state.doc, name: $("project-name").value, revision: state.revision });
    state.revision = saved.revision;
    state.dirty = false;
    status(`saved (revision ${saved.revision})`);
    listProjects();
  } catch (err) {
    report(err);
    throw err;
  }
}

async function listProjects() {
  try {
    const projects = await json("GET", "/api/projects");
    const select = $("projects");
    select.replaceChildren(new Option("recent projects…", ""),
      ...projects.map((p) => new Option(`${p.name} (${p.tracks} tracks)`, p.id)));
  } catch (err) { report(err); }
}

// ------------------------------------------------------------------ timeline
// the timeline slider and its label at the current frame
function showFrame() {
  const { frames, fps } = state.doc;
  $("timeline").value = state.frame;
  $("frame-label").textContent = `frame ${state.frame} / ${frames - 1} · ${(state.frame / fps).toFixed(2)} s`;
}

function setFrame(frame) {
  state.frame = Math.max(0, Math.min(state.doc.frames - 1, frame));
  showFrame();
  editor.draw();
}

function play() {
  state.playing = !state.playing;
  $("play").textContent = state.playing ? "❚❚" : "▶";
  let last = performance.now();
  const step = (now) => {
    if (!state.playing) return;
    if (now - last >= 1000 / state.doc.fps) { last = now; setFrame((state.frame + 1) % state.doc.frames); }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

// ------------------------------------------------------------------ camera and entities
function loadControlsIntoForms() {
  const cam = state.doc.camera;
  if (cam) {
    document.querySelector(`input[name=camera-kind][value=${cam.text != null ? "text" : "moves"}]`).checked = true;
    $("camera-text").value = cam.text ?? cam.moves ?? "";
    $("camera-hfov").value = cam.hfov; $("camera-grid").value = cam.grid;
  }
  const rows = $("entity-rows");
  rows.replaceChildren(...[0, 1, 2].map((i) => {
    const t = state.doc.entities?.templates?.[i];
    const row = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = `Entity ${i + 1}`;
    const shape = document.createElement("select");
    shape.className = "entity-shape";
    shape.append(new Option("none", ""), ...Object.keys(TEMPLATES).map((k) => new Option(k, k)));
    shape.value = t?.shape ?? (i === 0 ? "straight" : "");
    const prompt = document.createElement("input");
    prompt.className = "entity-prompt";
    prompt.placeholder = "a red fox trotting";
    prompt.value = t?.prompt ?? "";
    row.append(legend, shape, prompt);
    return row;
  }));
}

async function showPlot(kind, img) {
  try {
    const png = await blob("POST", projectUrl(state.project.id, `/${kind}-plot`), { document: state.doc });
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(png);
  } catch (err) { report(err); }
}

function applyCamera() {
  const kind = document.querySelector("input[name=camera-kind]:checked").value;
  const text = $("camera-text").value.trim();
  if (!text) { status("describe the camera move first", true); return; }
  commit({ ...state.doc, camera: { moves: kind === "moves" ? text : null, text: kind === "text" ? text : null,
    seed: 0, hfov: Number($("camera-hfov").value), grid: Number($("camera-grid").value), include: true } });
  showPlot("camera", $("camera-plot"));
}

function applyEntities() {
  const templates = [...document.querySelectorAll("#entity-rows fieldset")].map((row) => ({
    shape: row.querySelector(".entity-shape").value, prompt: row.querySelector(".entity-prompt").value.trim(),
  })).filter((t) => t.shape).map((t) => ({ ...t, prompt: t.prompt || `entity ${t.shape}`, params: TEMPLATES[t.shape] }));
  if (!templates.length) { status("choose at least one entity template", true); return; }
  commit({ ...state.doc, entities: { templates, distance: Number($("entity-distance").value), spacing: 2,
    footprint: 4, include: true } });
  showPlot("entities", $("entities-plot"));
}

// ------------------------------------------------------------------ preview and export
async function render() {
  try {
    if (state.dirty) await save();
    $("render").disabled = true;
    let job = await json("POST", projectUrl(state.project.id, "/renders"));
    status("rendering preview…");
    while (job.status === "queued" || job.status === "running") {
      $("render-progress").max = job.total; $("render-progress").value = job.done;
      await new Promise((r) => setTimeout(r, 250));
      job = await json("GET", projectUrl(state.project.id, `/renders/${job.id}`));
    }
    if (job.status !== "done") throw new Error(job.error || "the render failed");
    $("render-progress").value = $("render-progress").max;
    const video = $("preview-video");
    video.dataset.video = job.files["video.mp4"];
    video.dataset.overlay = job.files["overlay.mp4"] || job.files["video.mp4"];
    video.src = $("show-overlay").checked ? video.dataset.overlay : video.dataset.video;
    video.play().catch(() => {});
    status(`preview rendered in ${job.seconds} s`);
  } catch (err) { report(err); } finally { $("render").disabled = !state.project; }
}

async function exportAs(fmt) {
  try {
    if (state.dirty) await save();
    const a = document.createElement("a");
    a.href = projectUrl(state.project.id, `/export/${fmt}`);
    a.download = "";
    document.body.append(a);
    a.click();
    a.remove();
  } catch (err) { report(err); }
}

// ------------------------------------------------------------------ wiring
$("upload").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  try {
    status("uploading…");
    const project = await upload("/api/projects", "image", file, { name: file.name.replace(/\.[^.]+$/, "") });
    await openProject(project.id);
    listProjects();
  } catch (err) { report(err); }
});
$("projects").addEventListener("change", (e) => { if (e.target.value) openProject(e.target.value); });
$("save").addEventListener("click", () => save().catch(() => {}));
$("undo").addEventListener("click", () => undoRedo("undo"));
$("redo").addEventListener("click", () => undoRedo("redo"));
function undoRedo(which) {
  const doc = which === "undo" ? state.history.undo() : state.history.redo();
  if (!doc) return;
  state.doc = doc;
  state.dirty = true;
  if (!doc.tracks.some((t) => t.id === state.selected)) state.selected = null;
  requestSample();
  refresh();
}
document.querySelectorAll(".tool").forEach((b) => b.addEventListener("click", () => setTool(b.dataset.tool)));
function setTool(tool) {
  document.querySelectorAll(".tool").forEach((b) => b.classList.toggle("active", b.dataset.tool === tool));
  editor.setTool(tool);
}
document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll(".tab").forEach((x) => x.classList.toggle("active", x === b));
  for (const name of ["tracks", "camera", "entities"]) $(`tab-${name}`).classList.toggle("hidden", name !== b.dataset.tab);
}));
$("speed").addEventListener("change", (e) => {
  if (e.target.value === "custom") { $("speed-curve").focus(); return; }
  updateSelected({ speed: e.target.value });
});
$("speed-curve").addEventListener("change", (e) => {
  const speeds = e.target.value.split(/[\s,;]+/).filter(Boolean).map(Number);
  if (speeds.length < 2 || speeds.some((v) => !Number.isFinite(v) || v < 0) || !speeds.some((v) => v > 0)) {
    status("a speed curve is at least two non-negative numbers, not all zero", true);
    return;
  }
  updateSelected({ speed: speeds });
});
$("start").addEventListener("change", (e) => updateSelected({ start: Math.max(0, Number(e.target.value) | 0) }));
$("end").addEventListener("change", (e) => {
  const end = Number(e.target.value) | 0;
  updateSelected({ end: end >= state.doc.frames ? null : end });
});
$("radius-start").addEventListener("change", (e) => updateSelected({ radius_start: Number(e.target.value) }));
$("radius-end").addEventListener("change", (e) => updateSelected({ radius_end: Number(e.target.value) }));
$("count").addEventListener("change", (e) => updateSelected({ count: Number(e.target.value) | 0 }));
$("delete").addEventListener("click", () => {
  commit({ ...state.doc, tracks: state.doc.tracks.filter((t) => t.id !== state.selected) });
  state.selected = null;
  refresh();
});
$("duplicate").addEventListener("click", () => {
  const track = state.doc.tracks.find((t) => t.id === state.selected);
  if (!track) return;
  const offset = Math.round(0.04 * Math.max(...editor.size));
  const copy = shiftTrack(track, offset, offset, newId(track.kind));
  state.selected = copy.id;
  commit({ ...state.doc, tracks: [...state.doc.tracks, copy] });
});
function addPan(all) {
  const dx = Number($("pan-dx").value), dy = Number($("pan-dy").value);
  commit({ ...state.doc, tracks: state.doc.tracks.map((t) => (all || t.id === state.selected)
    ? { ...t, pan: [t.pan[0] + dx, t.pan[1] + dy] } : t) });
}
$("pan-selected").addEventListener("click", () => addPan(false));
$("pan-all").addEventListener("click", () => addPan(true));
$("timeline").addEventListener("input", (e) => setFrame(Number(e.target.value)));
$("play").addEventListener("click", play);
$("frames").addEventListener("change", (e) => {
  const frames = Math.max(2, Math.min(2000, Number(e.target.value) | 0));
  commit({ ...state.doc, frames, tracks: state.doc.tracks.map((t) => ("end" in t && t.end !== null && t.end > frames)
    ? { ...t, end: null } : t) });
});
$("fps").addEventListener("change", (e) => commit({ ...state.doc, fps: Math.max(1, Number(e.target.value) || 16) }));
$("camera-apply").addEventListener("click", applyCamera);
$("camera-remove").addEventListener("click", () => { commit({ ...state.doc, camera: null }); $("camera-plot").removeAttribute("src"); });
$("entities-apply").addEventListener("click", applyEntities);
$("entities-remove").addEventListener("click", () => { commit({ ...state.doc, entities: null }); $("entities-plot").removeAttribute("src"); });
$("depth").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file || !state.project) return;
  try {
    const info = await upload(projectUrl(state.project.id, "/depth"), "depth", file);
    status(`depth map ${info.shape.join("×")} loaded`);
    requestSample();
  } catch (err) { report(err); }
});
$("render").addEventListener("click", render);
$("show-overlay").addEventListener("change", (e) => {
  const video = $("preview-video");
  if (video.dataset.video) { video.src = e.target.checked ? video.dataset.overlay : video.dataset.video; video.play().catch(() => {}); }
});
document.querySelectorAll("[data-export]").forEach((b) => b.addEventListener("click", () => exportAs(b.dataset.export)));
$("import").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file || !state.project) return;
  try {
    if (state.dirty) await save();  // the server appends to the saved document: unsaved edits would be lost
    const { document: doc } = await upload(projectUrl(state.project.id, "/import"), "file", file);
    commit(doc);
    status(`imported ${file.name}`);
  } catch (err) { report(err); }
});
document.addEventListener("keydown", (e) => {
  if (e.target.matches("input, textarea, select")) return;
  const key = e.key.toLowerCase();
  if ((e.ctrlKey || e.metaKey) && key === "z") { e.preventDefault(); undoRedo(e.shiftKey ? "redo" : "undo"); return; }
  if ((e.ctrlKey || e.metaKey) && key === "y") { e.preventDefault(); undoRedo("redo"); return; }
  if ((e.ctrlKey || e.metaKey) && key === "s") { e.preventDefault(); save().catch(() => {}); return; }
  const tools = { v: "select", f: "free", s: "static", c: "circle", e: "falloff" };
  if (tools[key] && !e.ctrlKey && !e.metaKey) setTool(tools[key]);
  if (key === " ") { e.preventDefault(); play(); }
  if (key === "arrowright") setFrame(state.frame + 1);
  if (key === "arrowleft") setFrame(state.frame - 1);
  if ((key === "delete" || key === "backspace") && state.selected) $("delete").click();
});
window.addEventListener("beforeunload", (e) => { if (state.dirty) e.preventDefault(); });

state.history.reset(state.doc);
loadControlsIntoForms();
refresh();
listProjects();
const initial = location.hash.slice(1);
if (/^[0-9a-f]{32}$/.test(initial)) openProject(initial);
