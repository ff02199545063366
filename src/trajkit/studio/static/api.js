// HTTP calls to the studio's API. Same-origin fetches: the browser sends the Origin header and any token cookie.

// An error the API answered with; its message is the server's `detail` (always a string).
export class ApiError extends Error {}

async function check(response) {
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (typeof body.detail === "string") message = body.detail;
  } catch { /* not JSON */ }
  throw new ApiError(message);
}

export async function send(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return check(await fetch(url, init));
}

export async function json(method, url, body) { return (await send(method, url, body)).json(); }

export async function upload(url, field, file, extra = {}) {
  const form = new FormData();
  form.append(field, file);
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  return (await check(await fetch(url, { method: "POST", body: form }))).json();
}

export async function blob(method, url, body) { return (await send(method, url, body)).blob(); }

export const projectUrl = (id, tail = "") => `/api/projects/${encodeURIComponent(id)}${tail}`;

// GET a file: its bytes and the file name the server gave it (Content-Disposition), errors as ApiError
export async function download(url) {
  const response = await check(await fetch(url));
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  return { blob: await response.blob(), name: match ? match[1] : url.split("/").pop() };
}
