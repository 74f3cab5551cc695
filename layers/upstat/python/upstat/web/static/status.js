// The status page: reads api/status (relative, so a stage or base path in front of the API keeps working)
// every 30 s. Text goes in with textContent only (names are user data).
"use strict";

const REFRESH_MS = 30000;
const LABELS = { up: "All systems operational", degraded: "Degraded performance", down: "Service outage" };
const KEY_STORE = "upstat.statusKey";

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function ago(ms) {
  if (!ms) return "never checked";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  return Math.round(s / 3600) + " h ago";
}

function row(svc) {
  const li = el("li");
  const main = el("div", "grow");
  main.append(el("div", "name", svc.name));
  if (svc.description) main.append(el("div", "desc", svc.description));
  const timing = svc.responseTime === null || svc.responseTime === undefined ? "" : svc.responseTime + " ms · ";
  const info = el("div", "muted", timing + ago(svc.lastChecked));
  const status = /^[a-z]+$/.test(svc.status) ? svc.status : "unknown";
  li.append(main, info, el("span", "badge " + status, status));
  return li;
}

function render(body) {
  const overall = document.getElementById("overall");
  const state = /^[a-z]+$/.test(body.overall) ? body.overall : "unknown";
  overall.className = "overall " + state;
  overall.textContent = LABELS[state] || "Status unknown";
  document.getElementById("updated").textContent = "Updated " + new Date(body.updated).toLocaleString();
  const list = document.getElementById("services");
  list.replaceChildren(...(body.services || []).map(row));
}

function showError(text) {
  const node = document.getElementById("error");
  node.textContent = text;
  node.hidden = !text;
}

async function load() {
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers.Authorization = "Bearer " + key;
  try {
    const res = await fetch("api/status", { headers, cache: "no-store" });
    if (res.status === 401 || res.status === 403) {
      document.getElementById("keyform").hidden = false;
      showError(key ? "That key cannot read the status." : "");
      return;
    }
    const body = await res.json();
    if (!res.ok) throw new Error(body.message || "HTTP " + res.status);
    document.getElementById("keyform").hidden = true;
    showError("");
    render(body);
  } catch (err) {
    showError("Could not load the status: " + err.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("keyform").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORE, document.getElementById("key").value);
    load();
  });
  load();
  setInterval(load, REFRESH_MS);
});
