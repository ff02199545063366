// What the page tells the user: a one-line status in the header, one error box over the stage, and the director's
// loading progress in the camera tab.
//
// An error keeps its line breaks (the move grammar's errors point at the mistake with a caret on a second line)
// and stays until the same kind of request succeeds (a new sample clears a sample error, a save a save error),
// until any action reports success through `status`, or until it is dismissed.

import { json } from "./api.js";

const $ = (id) => document.getElementById(id);
let errorSource = null;

// an informational status; a success, so it also clears any error shown
export function status(text) {
  $("status").textContent = text;
  clearError();
}

// show `err` (an Error or a message) as the error of requests of kind `source`
export function fail(source, err) {
  if (err instanceof Error) console.error(err);
  const message = err instanceof Error ? err.message : String(err);
  errorSource = source;
  $("message-text").textContent = message;
  $("message").hidden = false;
}

// a request of kind `source` succeeded: its error (if that is the one shown) is out of date
export function succeed(source) { if (errorSource === source) clearError(); }

export function clearError() {
  errorSource = null;
  $("message").hidden = true;
  $("message-text").textContent = "";
}

export function currentError() { return $("message").hidden ? null : $("message-text").textContent; }

$("message-close").addEventListener("click", clearError);

// ------------------------------------------------------------------ the director's first use
// Loading the director's model takes seconds to a minute the first time; while a request that needs it is pending
// (or after the director is chosen, which starts loading it) the camera tab shows the server's
// GET /api/director/status.
let directorReported = true;  // false on a server without that route
let watching = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// show the director's status until `done(info)` is true (it is also asked before each poll, with null)
async function watchDirector(done) {
  watching += 1;
  try {
    await sleep(250);
    while (directorReported && !done(null)) {
      let info;
      try { info = await json("GET", "/api/director/status"); } catch { directorReported = false; break; }
      if (done(info)) break;
      $("director-status").textContent = describeDirector(info);
      $("director-status").hidden = false;
      await sleep(500);
    }
  } finally {
    watching -= 1;
    if (!watching) $("director-status").hidden = true;
  }
}

// `request` (a promise) needs the director when `needed`: show its status until the request settles
export async function withDirector(needed, request) {
  if (!needed || !directorReported) return request;
  let pending = true;
  const settle = () => { pending = false; };
  request.then(settle, settle);
  watchDirector(() => !pending);
  return request;
}

// the director was chosen: start loading it now (POST /api/director/load) and show how that goes
export async function warmDirector() {
  if (!directorReported) return;
  try {
    if ((await json("POST", "/api/director/load")).status !== "loading") return;
  } catch { return; }  // an older server, or none: the first request loads it
  let last = null;
  await watchDirector((info) => { if (info) last = info; return info !== null && info.status !== "loading"; });
  if (last?.status === "error") fail("director", last.error || "the director could not be loaded");
}

export function describeDirector(info) {
  const seconds = info.seconds != null ? ` · ${Math.round(info.seconds)} s` : "";
  if (info.status === "loading") return `director: loading (first use)${info.stage ? ` — ${info.stage}` : ""}${seconds}…`;
  if (info.status === "error") return `director: ${info.error || "failed to load"}`;
  if (info.status === "ready") return "director: writing the camera path…";
  return `director: ${info.status ?? "waiting"}…`;
}
