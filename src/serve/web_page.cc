// The page `serve` sends at /: one HTML document with its CSS and JavaScript
// inline (no CDN, no network). It talks to the JSON API only.
#include "serve/server_context.h"

namespace videoprism::serve {

const char* web_page() {
  return R"VPPAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>videoprism</title>
<style>
  :root { --bg: #111418; --panel: #1b2027; --text: #e8eaed; --dim: #9aa0a6; --accent: #7cb3ff; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 12px 16px;
           background: var(--panel); position: sticky; top: 0; z-index: 2; }
  header h1 { font-size: 18px; margin: 0 12px 0 0; }
  input[type=search] { flex: 1 1 320px; padding: 8px 10px; border-radius: 6px; border: 1px solid #3c4043;
                       background: #0d1014; color: var(--text); font-size: 15px; }
  button, select, label.button { padding: 7px 12px; border-radius: 6px; border: 1px solid #3c4043;
                                 background: #262c34; color: var(--text); cursor: pointer; font-size: 14px; }
  button:hover, label.button:hover { border-color: var(--accent); }
  #status { padding: 8px 16px; color: var(--dim); min-height: 20px; }
  #status.error { color: #ff8a80; }
  #grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; padding: 0 16px 16px; }
  .card { background: var(--panel); border-radius: 8px; overflow: hidden; cursor: pointer; border: 2px solid transparent; }
  .card:hover, .card.active { border-color: var(--accent); }
  .card img { width: 100%; aspect-ratio: 16 / 10; object-fit: cover; display: block; background: #000; }
  .card .meta { padding: 6px 8px; display: grid; gap: 2px; }
  .card .name { font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .card .row { display: flex; justify-content: space-between; align-items: center; color: var(--dim); gap: 6px; }
  .card .score { color: var(--accent); font-variant-numeric: tabular-nums; }
  .card button { padding: 3px 8px; font-size: 12px; }
  #viewer { padding: 0 16px 12px; }
  #viewer video { width: 100%; max-height: 60vh; background: #000; border-radius: 8px; }
  #caption { color: var(--dim); padding: 4px 0; }
  #pager { display: flex; gap: 8px; justify-content: center; padding: 0 16px 24px; }
  #drop { position: fixed; inset: 0; background: rgba(20, 60, 120, .6); display: none; align-items: center;
          justify-content: center; font-size: 24px; z-index: 5; }
  body.dragging #drop { display: flex; }
</style>
</head>
<body>
<header>
  <h1>videoprism</h1>
  <form id="form" style="display:contents">
    <input id="q" type="search" placeholder="Search your videos by text, e.g. a dog catching a frisbee" autocomplete="off">
    <select id="k" title="results"><option>12</option><option selected>24</option><option>48</option></select>
    <button id="go" type="submit">Search</button>
  </form>
  <label class="button" title="Search by an example video (or drop one on the page)">Search by video
    <input id="upload" type="file" accept="video/*" hidden></label>
  <button id="library" type="button">Library</button>
</header>
<div id="status"></div>
<section id="viewer" hidden>
  <video id="player" controls muted playsinline preload="auto"></video>
  <div id="caption"></div>
</section>
<main id="grid"></main>
<nav id="pager" hidden><button id="prev" type="button">Previous</button><span id="page"></span>
  <button id="next" type="button">Next</button></nav>
<div id="drop">Drop a video to find similar windows</div>
<script>
"use strict";
const $ = (s) => document.querySelector(s);
const state = { token: null, offset: 0, limit: 24, total: 0 };

function readToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) sessionStorage.setItem("vpToken", decodeURIComponent(m[1]));
  state.token = sessionStorage.getItem("vpToken");
}
function withToken(url) {
  if (!state.token) return url;
  return url + (url.includes("?") ? "&" : "?") + "access_token=" + encodeURIComponent(state.token);
}
function status(text, isError) {
  const el = $("#status");
  el.textContent = text;
  el.className = isError ? "error" : "";
}
async function api(url, options) {
  options = options || {};
  options.headers = Object.assign({}, options.headers || {},
                                  state.token ? { Authorization: "Bearer " + state.token } : {});
  const response = await fetch(url, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = { error: response.statusText }; }
  if (!response.ok) {
    if (response.status === 401) {
      const t = prompt("This server needs a token:");
      if (t) { sessionStorage.setItem("vpToken", t); state.token = t; return api(url, options); }
    }
    throw new Error((body && body.error) || ("HTTP " + response.status));
  }
  return body;
}
function clock(s) {
  const m = Math.floor(s / 60), r = s - 60 * m;
  return m + ":" + (r < 10 ? "0" : "") + r.toFixed(1);
}
function card(hit) {
  const el = document.createElement("div");
  el.className = "card";
  el.dataset.windowId = hit.window_id;
  el.dataset.name = hit.name;
  el.dataset.start = hit.start_s;
  const img = document.createElement("img");
  img.loading = "lazy";
  img.alt = hit.name + " " + clock(hit.start_s);
  img.src = withToken(hit.thumb_url);
  const meta = document.createElement("div");
  meta.className = "meta";
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = hit.name;
  name.title = hit.name;
  const row1 = document.createElement("div");
  row1.className = "row";
  row1.innerHTML = "<span class=range></span><span class=score></span>";
  row1.querySelector(".range").textContent = clock(hit.start_s) + " – " + clock(hit.end_s);
  row1.querySelector(".score").textContent = hit.score === undefined ? "" : hit.score.toFixed(3);
  const row2 = document.createElement("div");
  row2.className = "row";
  const more = document.createElement("button");
  more.type = "button";
  more.className = "more";
  more.textContent = "more like this";
  more.addEventListener("click", (e) => { e.stopPropagation(); similar(hit.window_id); });
  row2.append(document.createTextNode(hit.rank ? "#" + hit.rank : "window " + hit.window), more);
  meta.append(name, row1, row2);
  el.append(img, meta);
  el.addEventListener("click", () => play(hit, el));
  return el;
}
function show(hits, text) {
  const grid = $("#grid");
  grid.replaceChildren(...hits.map(card));
  status(text);
}
function play(hit, el) {
  document.querySelectorAll(".card.active").forEach((c) => c.classList.remove("active"));
  if (el) el.classList.add("active");
  const v = $("#player");
  const direct = hit.playable;
  v.dataset.start = hit.start_s;
  v.dataset.end = hit.end_s;
  v.dataset.windowId = hit.window_id;
  v.dataset.source = direct ? "media" : "preview";
  v.onloadedmetadata = () => {
    if (v.currentTime < hit.start_s - 0.001) { try { v.currentTime = hit.start_s; } catch (e) {} }
    v.play().catch(() => {});
  };
  v.onerror = () => {
    if (v.dataset.source === "media") {  // the browser could not play the file: its preview then
      v.dataset.source = "preview";
      v.src = withToken(hit.preview_url);
    } else {
      status("cannot play " + hit.name + ": " + (v.error ? v.error.message || v.error.code : "error"), true);
    }
  };
  v.src = withToken(direct ? hit.media_url : hit.preview_url);
  $("#viewer").hidden = false;
  $("#caption").textContent = hit.name + "  " + clock(hit.start_s) + " – " + clock(hit.end_s) +
                              (direct ? "" : "  (preview of this window)");
}
function k() { return $("#k").value; }
async function search(q) {
  $("#pager").hidden = true;
  status("Searching…");
  try {
    const r = await api("/api/search?q=" + encodeURIComponent(q) + "&k=" + k());
    show(r.hits, r.hits.length + " windows for “" + q + "”" + (r.cached ? " (cached)" : "") +
                 " in " + r.took_ms.toFixed(0) + " ms · generation " + r.generation);
  } catch (e) { status(e.message, true); }
}
async function similar(id) {
  $("#pager").hidden = true;
  status("Finding windows like " + id + "…");
  try {
    const r = await api("/api/similar?window=" + id + "&k=" + k());
    show(r.hits, r.hits.length + " windows like window " + id + " in " + r.took_ms.toFixed(0) + " ms");
  } catch (e) { status(e.message, true); }
}
async function upload(file) {
  $("#pager").hidden = true;
  status("Uploading " + file.name + " (" + (file.size / 1e6).toFixed(1) + " MB)…");
  const form = new FormData();
  form.append("video", file, file.name);
  try {
    const r = await api("/api/search/video?k=" + k(), { method: "POST", body: form });
    show(r.hits, r.hits.length + " windows like " + file.name + " in " + r.took_ms.toFixed(0) + " ms");
  } catch (e) { status(e.message, true); }
}
async function library(offset) {
  status("Loading the library…");
  try {
    const r = await api("/api/videos?offset=" + offset + "&limit=" + state.limit);
    state.offset = r.offset;
    state.total = r.total;
    const hits = [];
    for (const v of r.videos)
      for (const w of v.windows)
        hits.push(Object.assign({}, w, { name: v.name, file_id: v.file_id, media_url: v.media_url,
                                         playable: v.playable }));
    show(hits, r.total + " videos · generation " + r.generation);
    $("#pager").hidden = false;
    const last = Math.min(r.offset + r.limit, r.total);
    $("#page").textContent = (r.total ? r.offset + 1 : 0) + "–" + last + " of " + r.total;
    $("#prev").disabled = r.offset === 0;
    $("#next").disabled = last >= r.total;
  } catch (e) { status(e.message, true); }
}

readToken();
$("#form").addEventListener("submit", (e) => { e.preventDefault(); const q = $("#q").value.trim(); if (q) search(q); });
$("#library").addEventListener("click", () => library(0));
$("#prev").addEventListener("click", () => library(Math.max(0, state.offset - state.limit)));
$("#next").addEventListener("click", () => library(state.offset + state.limit));
$("#upload").addEventListener("change", (e) => { if (e.target.files[0]) upload(e.target.files[0]); });
let drags = 0;
document.addEventListener("dragenter", (e) => { e.preventDefault(); drags++; document.body.classList.add("dragging"); });
document.addEventListener("dragleave", () => { if (--drags <= 0) { drags = 0; document.body.classList.remove("dragging"); } });
document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", (e) => {
  e.preventDefault();
  drags = 0;
  document.body.classList.remove("dragging");
  const f = e.dataTransfer.files[0];
  if (f) upload(f);
});
api("/api/health").then((h) => status(h.files + " videos, " + h.windows + " windows · generation " + h.generation +
                                      (h.text_search ? "" : " · text search off (no tokenizer)")))
                  .catch((e) => status(e.message, true));
</script>
</body>
</html>
)VPPAGE";
}

}  // namespace videoprism::serve
