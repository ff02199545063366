// Projects in the header: open one, make one from an image or a video's first frame, rename it, delete it.

import { json, projectUrl, send, upload } from "./api.js";
import { fail, status } from "./feedback.js";
import { forgetPreview } from "./output.js";

const $ = (id) => document.getElementById(id);
const VIDEO = /\.(mp4|m4v|mov|webm|mkv)$/i;
let page = null;  // {state, openProject, closeProject}: set by installProjects

export async function listProjects() {
  try {
    const projects = await json("GET", "/api/projects");
    const select = $("projects");
    select.replaceChildren(new Option("recent projects…", ""),
      ...projects.map((p) => new Option(`${p.name} (${p.tracks} tracks)`, p.id)));
    if (page.state.project) select.value = page.state.project.id;
  } catch (err) { fail("projects", err); }
}

// an image becomes a project as it is; a video (MP4, MOV, WebM) by its first frame
async function create(e) {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  const video = file.type.startsWith("video/") || VIDEO.test(file.name);
  try {
    status(video ? "uploading the video (its first frame becomes the image)…" : "uploading…");
    const name = file.name.replace(/\.[^.]+$/, "");
    const project = await upload(video ? "/api/projects/video" : "/api/projects", video ? "video" : "image", file,
      { name });
    await page.openProject(project.id);
    listProjects();
  } catch (err) { fail("upload", err); }
}

async function rename() {
  const project = page.state.project;
  const name = $("project-name").value.trim();
  if (!project || name === project.name) return;
  if (!name) { $("project-name").value = project.name; fail("rename", "a project needs a name"); return; }
  try {
    const renamed = await json("PATCH", projectUrl(project.id), { name });
    project.name = renamed.name;
    $("project-name").value = renamed.name;
    status(`renamed to ${renamed.name}`);
    listProjects();
  } catch (err) { fail("rename", err); }
}

async function remove() {
  const project = page.state.project;
  if (!project) { fail("delete", "no project is open"); return; }
  if (!window.confirm(`Delete the project “${project.name}”, its image and its previews? This cannot be undone.`)) return;
  try {
    await send("DELETE", projectUrl(project.id));
    forgetPreview(project.id);
    page.closeProject();
    status(`deleted ${project.name}`);
    listProjects();
  } catch (err) { fail("delete", err); }
}

export function installProjects(context) {
  page = context;
  $("upload").addEventListener("change", create);
  $("projects").addEventListener("change", (e) => { if (e.target.value) page.openProject(e.target.value); });
  $("project-name").addEventListener("change", rename);
  $("delete-project").addEventListener("click", remove);
}
