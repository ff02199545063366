// The studio page: the open project, its document, history, timeline and the tracks tab. The canvas lives in
// canvas.js; the camera and entities tabs in controls.js; preview, export and import in output.js; the project
// menu (new, rename, delete) in projects.js; status and errors in feedback.js.

import { json, projectUrl, upload } from "./api.js";
import { COLOURS, Editor, replaceTrack, shiftTrack } from "./canvas.js";
import { clearPlots, installControls, loadControlsIntoForms } from "./controls.js";
import { fail, status, succeed, withDirector } from "./feedback.js";
import { History } from "./history.js";
import { installOutput, restorePreview } from "./output.js";
import { installProjects, listProjects } from "./projects.js";

const $ = (id) => document.getElementById(id);
// a new track id: the kind's initial and 8 random base-36 characters (the document's id pattern)
const newId = (kind) => `${kind[0]}${Math.random().toString(36).slice(2, 10)}`;
const EMPTY = { version: 1, frames: 81, fps: 16, prompt: "", tracks: [], camera: null, entities: null };
//: the frame rates the page accepts (the video models run at 8–24 fps; the server refuses far beyond)
const FPS_RANGE = [1, 120];
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

function commit(doc) {
  state.doc = doc;
  if (state.history.push(doc)) state.dirty = true;
  requestSample();
  refresh();
}

// warnings that refuse nothing (a director prompt with no motion word it knows), under the camera's text
function showWarnings(warnings = []) {
  const box = document.getElementById("camera-warning");
  box.textContent = warnings.map((w) => `warning: ${w}`).join("\n");
  box.hidden = !warnings.length;
}

async function requestSample() {
  if (!state.project) return;
  const seq = ++state.sampleSeq;
  const doc = state.doc;
  try {
    const request = json("POST", projectUrl(state.project.id, "/sample"), { document: doc });
    const sampled = await withDirector(doc.camera?.text != null, request);
    if (seq === state.sampleSeq) {
      state.sampled = sampled; state.sampledFor = doc; succeed("sample"); showWarnings(sampled.warnings); editor.draw();
    }
  } catch (err) { if (seq === state.sampleSeq) fail("sample", err); }
}

// ------------------------------------------------------------------ page state → widgets
function refresh() {
  const doc = state.doc;
  $("save").disabled = $("delete-project").disabled = $("project-name").disabled = !state.project;
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
    clearPlots();
    status(`${project.name}: ${project.image.width}×${project.image.height}, revision ${project.revision}`);
    refresh();
    restorePreview(id);
    await requestSample();
  } catch (err) { fail("open", err); }
}

// back to no project (after deleting the open one)
function closeProject() {
  Object.assign(state, { project: null, doc: structuredClone(EMPTY), sampled: null, sampledFor: null, selected: null,
    frame: 0, revision: null, dirty: false });
  state.history.reset(state.doc);
  $("project-name").value = "";
  $("hint").classList.remove("hidden");
  editor.setImage(null);
  history.replaceState(null, "", location.pathname);
  loadControlsIntoForms();
  clearPlots();
  restorePreview(null);
  refresh();
}

async function save() {
  if (!state.project) return;
  try {
    const saved = await json("PUT", projectUrl(state.project.id), {
      document: state.doc, name: $("project-name").value, revision: state.revision });
    state.revision = saved.revision;
    state.dirty = false;
    state.project.name = saved.name;
    status(`saved (revision ${saved.revision})`);
    listProjects();
  } catch (err) {
    fail("save", err);
    throw err;
  }
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

// ------------------------------------------------------------------ wiring
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
    fail("speed", "a speed curve is at least two non-negative numbers, not all zero");
    return;
  }
  succeed("speed");
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
  const given = Number(e.target.value);
  const frames = Math.max(2, Math.min(2000, Number.isFinite(given) ? Math.round(given) : state.doc.frames));
  if (frames !== given) fail("frames", `frames must be a whole number from 2 to 2000; ${e.target.value || "(empty)"} `
    + `was set to ${frames}`);
  else succeed("frames");
  commit({ ...state.doc, frames, tracks: state.doc.tracks.map((t) => ("end" in t && t.end !== null && t.end > frames)
    ? { ...t, end: null } : t) });
});
$("fps").addEventListener("change", (e) => {
  const given = Number(e.target.value);
  const fps = Math.max(FPS_RANGE[0], Math.min(FPS_RANGE[1], Number.isFinite(given) && given > 0 ? given : state.doc.fps));
  if (fps !== given) fail("fps", `fps must be between ${FPS_RANGE[0]} and ${FPS_RANGE[1]}; ${e.target.value || "(empty)"} `
    + `was set to ${fps}`);
  else succeed("fps");
  commit({ ...state.doc, fps });
});
$("depth").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file || !state.project) return;
  try {
    const info = await upload(projectUrl(state.project.id, "/depth"), "depth", file);
    status(`depth map ${info.shape.join("×")} loaded`);
    requestSample();
  } catch (err) { fail("depth", err); }
});
document.addEventListener("keydown", (e) => {
  if (e.target.matches("input, textarea, select")) return;
  const key = e.key.toLowerCase();
  if ((e.ctrlKey || e.metaKey) && key === "z") { e.preventDefault(); undoRedo(e.shiftKey ? "redo" : "undo"); return; }
  if ((e.ctrlKey || e.metaKey) && key === "y") { e.preventDefault(); undoRedo("redo"); return; }
  if ((e.ctrlKey || e.metaKey) && key === "s") { e.preventDefault(); save().catch(() => {}); return; }
  const tools = { v: "select", f: "free", s: "static", c: "circle", e: "falloff" };
  if (tools[key] && !e.ctrlKey && !e.metaKey) setTool(tools[key]);
  if (key === " ") { e.preventDefault(); if (!e.repeat) editor.holdSpace(true); }  // space: play, or hold to pan
  if ((key === "+" || key === "=") && !e.ctrlKey) editor.zoomBy(1.25);
  if (key === "-" && !e.ctrlKey) editor.zoomBy(0.8);
  if (key === "0" && !e.ctrlKey) editor.fitView();
  if (key === "arrowright") setFrame(state.frame + 1);
  if (key === "arrowleft") setFrame(state.frame - 1);
  if ((key === "delete" || key === "backspace") && state.selected) $("delete").click();
});
document.addEventListener("keyup", (e) => {
  if (e.key !== " " || !editor.spaceHeld) return;
  e.preventDefault();  // not also a click on the focused button
  if (!editor.holdSpace(false)) play();
});
window.addEventListener("blur", () => editor.holdSpace(false));
editor.onview = (view) => {
  $("zoom").textContent = view.zoom > 1.001 ? `${(view.zoom * 100).toFixed(0)} %` : "fit";
  $("zoom").title = `1 image pixel = ${(view.zoom * view.bx).toFixed(2)} screen pixels; click (or 0) to fit`;
};
$("zoom").addEventListener("click", () => editor.fitView());
window.addEventListener("beforeunload", (e) => { if (state.dirty) e.preventDefault(); });

const page = { state, commit, save, openProject, closeProject };
installControls(page);
installOutput(page);
installProjects(page);
state.history.reset(state.doc);
loadControlsIntoForms();
refresh();
listProjects();
const initial = location.hash.slice(1);
if (/^[0-9a-f]{32}$/.test(initial)) openProject(initial);
