"use strict";
// The console uses only Keel's public HTTP API.
const $ = (id) => document.getElementById(id);

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}

// The key stays in this tab's session storage only.
$("apikey").value = sessionStorage.getItem("keel.apiKey") || "";
$("apikey").addEventListener("change", () => {
  sessionStorage.setItem("keel.apiKey", $("apikey").value.trim());
  loadStatus();
  loadDocuments();
});

async function api(path, body) {
  const headers = {};
  const key = sessionStorage.getItem("keel.apiKey");
  if (key) headers["Authorization"] = "Bearer " + key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) });
  const data = await res.json();
  if (!res.ok) throw new Error(data.error ? data.error.message : res.statusText);
  return data;
}

async function showTrace(id) {
  try {
    const t = await api("/v1/traces/" + id);
    $("trace").textContent = t.spans.map(s => `${s.name.padEnd(12)} ${s.duration_ms.toFixed(2).padStart(8)} ms  ${JSON.stringify(s.attributes)}`).join("\n")
      + `\n${"total".padEnd(12)} ${t.duration_ms.toFixed(2).padStart(8)} ms`;
  } catch (e) { $("trace").textContent = e.message; }
}

$("ask-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const box = $("answer");
  box.className = "card";
  box.replaceChildren(text("p", "…", "muted"));
  try {
    const a = await api("/v1/answer", { question: $("question").value });
    box.className = a.answered ? "card" : "card refused";
    box.replaceChildren(text("p", a.answer));
    for (const c of a.citations) box.appendChild(text("div", `[${c.n}] ${c.source}${c.section ? " › " + c.section : ""}`, "cite"));
    showTrace(a.trace_id);
  } catch (e) { box.replaceChildren(text("p", e.message)); }
});

$("search-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const list = $("results");
  list.replaceChildren();
  try {
    const r = await api("/v1/search", { query: $("query").value, mode: $("mode").value, top_k: 10 });
    for (const h of r.data) {
      const li = document.createElement("li");
      li.appendChild(text("div", `${h.source}${h.section ? " › " + h.section : ""}  (${h.score.toFixed(4)})`, "cite"));
      li.appendChild(text("div", h.text.length > 300 ? h.text.slice(0, 300) + "…" : h.text));
      list.appendChild(li);
    }
    showTrace(r.trace_id);
  } catch (e) { list.replaceChildren(text("li", e.message)); }
});

async function loadDocuments() {
  try {
    const r = await api("/v1/documents?limit=200");
    const body = $("documents").querySelector("tbody");
    body.replaceChildren();
    for (const d of r.data) {
      const tr = document.createElement("tr");
      [d.source, d.title, d.chunk_count, d.ingested_at.replace("T", " ").slice(0, 19)].forEach(v => tr.appendChild(text("td", String(v))));
      body.appendChild(tr);
    }
  } catch (e) {
    const row = document.createElement("tr"), cell = text("td", e.message);
    cell.colSpan = 4;
    row.appendChild(cell);
    $("documents").querySelector("tbody").replaceChildren(row);
  }
}

async function loadStatus() {
  try {
    const r = await api("/health/ready");
    // Once API keys exist, readiness details are for operators only: then just say ready.
    $("status").textContent = r.chunks === undefined ? r.status : `${r.chunks} chunks · ${r.embed_model}`;
  } catch (e) { $("status").textContent = "not ready: " + e.message; }
}

loadStatus();
loadDocuments();
