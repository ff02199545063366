// The camera and entities tabs: their forms, their plots (small in the sidebar, full size in a dialog on click).

import { blob, projectUrl } from "./api.js";
import { fail, succeed, warmDirector, withDirector } from "./feedback.js";

const $ = (id) => document.getElementById(id);
// the shapes the server knows; their parameters are left to the server, whose defaults keep each entity in the
// rig camera's view (GET /api/entity-templates lists them)
const TEMPLATES = ["straight", "arc", "turn", "spin", "circle", "zigzag"];
let page = null;  // {state, commit}: set by installControls

// the forms show the document's camera and entities (after opening a project, undo …)
export function loadControlsIntoForms() {
  const doc = page.state.doc;
  const cam = doc.camera;
  if (cam) {
    document.querySelector(`input[name=camera-kind][value=${cam.text != null ? "text" : "moves"}]`).checked = true;
    $("camera-text").value = cam.text ?? cam.moves ?? "";
    $("camera-hfov").value = cam.hfov; $("camera-grid").value = cam.grid;
  }
  const rows = $("entity-rows");
  rows.replaceChildren(...[0, 1, 2].map((i) => {
    const t = doc.entities?.templates?.[i];
    const row = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = `Entity ${i + 1}`;
    const shape = document.createElement("select");
    shape.className = "entity-shape";
    shape.append(new Option("none", ""), ...TEMPLATES.map((k) => new Option(k, k)));
    shape.value = t?.shape ?? (i === 0 ? "straight" : "");
    const prompt = document.createElement("input");
    prompt.className = "entity-prompt";
    prompt.placeholder = "a red fox trotting";
    prompt.value = t?.prompt ?? "";
    row.append(legend, shape, prompt);
    return row;
  }));
}

// forget the plots (another project, or its control removed)
export function clearPlots(kind = null) {
  for (const k of kind ? [kind] : ["camera", "entities"]) {
    const img = $(`${k}-plot`);
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.removeAttribute("src");
  }
}

async function showPlot(kind) {
  const img = $(`${kind}-plot`);
  const doc = page.state.doc;
  try {
    const request = blob("POST", projectUrl(page.state.project.id, `/${kind}-plot`), { document: doc });
    const png = await withDirector(kind === "camera" && doc.camera?.text != null, request);
    clearPlots(kind);
    img.src = URL.createObjectURL(png);
    succeed(`${kind}-plot`);
  } catch (err) { fail(`${kind}-plot`, err); }
}

function applyCamera() {
  const kind = document.querySelector("input[name=camera-kind]:checked").value;
  const text = $("camera-text").value.trim();
  if (!text) { fail("camera", "describe the camera move first"); return; }
  succeed("camera");
  page.commit({ ...page.state.doc, camera: { moves: kind === "moves" ? text : null, text: kind === "text" ? text : null,
    seed: 0, hfov: Number($("camera-hfov").value), grid: Number($("camera-grid").value), include: true } });
  showPlot("camera");
}

function applyEntities() {
  const templates = [...document.querySelectorAll("#entity-rows fieldset")].map((row) => ({
    shape: row.querySelector(".entity-shape").value, prompt: row.querySelector(".entity-prompt").value.trim(),
  })).filter((t) => t.shape).map((t) => ({ ...t, prompt: t.prompt || `entity ${t.shape}`, params: {} }));
  if (!templates.length) { fail("entities", "choose at least one entity template"); return; }
  succeed("entities");
  page.commit({ ...page.state.doc, entities: { templates, distance: Number($("entity-distance").value), spacing: 2,
    footprint: 4, include: true } });
  showPlot("entities");
}

// a plot at its full resolution, in a dialog over the page (the sidebar shows it a quarter as wide)
function openPlot(kind) {
  const small = $(`${kind}-plot`);
  if (!small.getAttribute("src")) return;
  $("plot-large").src = small.src;
  $("plot-large").style.setProperty("--plot-width", `${small.naturalWidth}px`);
  $("plot-large").alt = small.alt;
  $("plot-title").textContent = kind === "camera" ? "Camera path: front, top and side views (red → purple over time)"
    : "Entities and camera, seen from above";
  $("plot-dialog").showModal();
}

export function installControls(context) {
  page = context;
  $("camera-apply").addEventListener("click", applyCamera);
  document.querySelector("input[name=camera-kind][value=text]").addEventListener("change", warmDirector);
  $("camera-remove").addEventListener("click", () => {
    page.commit({ ...page.state.doc, camera: null }); clearPlots("camera"); succeed("camera-plot");
  });
  $("entities-apply").addEventListener("click", applyEntities);
  $("entities-remove").addEventListener("click", () => {
    page.commit({ ...page.state.doc, entities: null }); clearPlots("entities"); succeed("entities-plot");
  });
  for (const kind of ["camera", "entities"]) $(`${kind}-plot`).addEventListener("click", () => openPlot(kind));
  $("plot-close").addEventListener("click", () => $("plot-dialog").close());
  $("plot-dialog").addEventListener("click", (e) => { if (e.target === $("plot-dialog")) $("plot-dialog").close(); });
}
