// The output column: preview renders (the last one of each project comes back after a reload), exports, imports.

import { download, json, projectUrl, upload } from "./api.js";
import { fail, status, succeed } from "./feedback.js";

const $ = (id) => document.getElementById(id);
const NO_PROJECT = "open an image first: exports and imports belong to a project";
// the last finished render of each project, in this browser: localStorage[KEY + project id] = render id
const KEY = "trajkit-studio:last-render:";
let page = null;  // {state, save, commit}: set by installOutput

function showVideo(job, play) {
  const video = $("preview-video");
  video.dataset.render = job.id;
  video.dataset.video = job.files["video.mp4"];
  video.dataset.overlay = job.files["overlay.mp4"] || job.files["video.mp4"];
  video.src = $("show-overlay").checked ? video.dataset.overlay : video.dataset.video;
  if (play) video.play().catch(() => {});
}

function clearVideo() {
  const video = $("preview-video");
  video.pause();
  for (const key of ["render", "video", "overlay"]) delete video.dataset[key];
  video.removeAttribute("src");
  video.load();
  $("render-progress").value = 0;
}

// a project was opened (or closed, id null): show its last preview, if the server still has it
export async function restorePreview(id) {
  clearVideo();
  const rid = id && localStorage.getItem(KEY + id);
  if (!rid) return;
  try {
    const job = await json("GET", projectUrl(id, `/renders/${rid}`));
    if (job.status !== "done" || page.state.project?.id !== id) return;
    showVideo(job, false);
    $("render-progress").max = 1; $("render-progress").value = 1;
  } catch {
    localStorage.removeItem(KEY + id);  // cleaned up, or the server restarted: nothing to show
  }
}

export function forgetPreview(id) { localStorage.removeItem(KEY + id); }

async function render() {
  const project = page.state.project;
  if (!project) { fail("render", NO_PROJECT); return; }
  try {
    if (page.state.dirty) await page.save();
    $("render").disabled = true;
    let job = await json("POST", projectUrl(project.id, "/renders"));
    status("rendering preview…");
    while (job.status === "queued" || job.status === "running") {
      $("render-progress").max = job.total; $("render-progress").value = job.done;
      await new Promise((r) => setTimeout(r, 250));
      job = await json("GET", projectUrl(project.id, `/renders/${job.id}`));
    }
    if (job.status !== "done") throw new Error(job.error || "the render failed");
    $("render-progress").value = $("render-progress").max;
    localStorage.setItem(KEY + project.id, job.id);
    if (page.state.project?.id === project.id) showVideo(job, true);
    status(`preview rendered in ${job.seconds} s`);
  } catch (err) { fail("render", err); } finally { $("render").disabled = !page.state.project; }
}

async function exportAs(fmt) {
  const project = page.state.project;
  if (!project) { fail("export", NO_PROJECT); return; }
  try {
    if (page.state.dirty) await page.save();
    const file = await download(projectUrl(project.id, `/export/${fmt}`));
    const a = document.createElement("a");
    a.href = URL.createObjectURL(file.blob);
    a.download = file.name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    status(`exported ${file.name}`);
  } catch (err) { fail("export", err); }
}

async function importFile(e) {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  if (!page.state.project) { fail("import", NO_PROJECT); return; }
  try {
    if (page.state.dirty) await page.save();  // the server appends to the saved document: unsaved edits would be lost
    const { document: doc } = await upload(projectUrl(page.state.project.id, "/import"), "file", file);
    page.commit(doc);
    status(`imported ${file.name}`);
  } catch (err) { fail("import", err); }
}

export function installOutput(context) {
  page = context;
  $("render").addEventListener("click", render);
  $("show-overlay").addEventListener("change", (e) => {
    const video = $("preview-video");
    if (video.dataset.video) { video.src = e.target.checked ? video.dataset.overlay : video.dataset.video; video.play().catch(() => {}); }
  });
  document.querySelectorAll("[data-export]").forEach((b) => b.addEventListener("click", () => exportAs(b.dataset.export)));
  $("import").addEventListener("change", importFile);
}
