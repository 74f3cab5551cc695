// The operator dashboard: a read key entered once (session storage, bearer token, never in the URL), then
// only the documented API routes: v1/sources (sources, metrics, health), v1/chart (JSON and CSV).
"use strict";

(() => {
  const { el, ms, ago, dateTime, lineChart } = Upstat;
  const KEY_STORE = "upstat.key";
  const RANGES = ["1h", "6h", "24h", "7d", "30d", "90d", "1y"];
  const HEALTH = {
    up: "Up", degraded: "Degraded", down: "Down", maintenance: "Maintenance", pending: "Pending", paused: "Paused",
    active: "Active", quiet: "Quiet", silent: "Silent", empty: "No data",
  };
  const S = { sources: [], source: null, metric: null, range: "24h", start: null, end: null, chart: null };

  function key() { return sessionStorage.getItem(KEY_STORE); }

  async function api(path, params) {
    const url = path + (params ? "?" + new URLSearchParams(params) : "");
    const res = await fetch(url, { headers: { Authorization: "Bearer " + key() }, cache: "no-store" });
    if (res.status === 401 || res.status === 403) {
      const body = await res.json().catch(() => ({}));
      needKey(body.message || "That key cannot read this.");
      throw new Error("unauthorized");
    }
    return res;
  }

  function needKey(message) {
    sessionStorage.removeItem(KEY_STORE);
    document.getElementById("app").hidden = true;
    document.getElementById("keyform").hidden = false;
    document.getElementById("forget").hidden = true;
    showError(message || "");
    document.getElementById("key").focus();
  }

  function showError(text) {
    const node = document.getElementById("error");
    node.textContent = text;
    node.hidden = !text;
  }

  function label(s) { return s.service || s.name || s.source; }  // a registered source shows its name

  // ------------------------------------------------------------------------------------------------
  // Sources

  async function loadSources() {
    try {
      const res = await api("v1/sources");
      const body = await res.json();
      if (!res.ok) throw new Error(body.message || "HTTP " + res.status);
      S.sources = body.sources;
      document.getElementById("keyform").hidden = true;
      document.getElementById("app").hidden = false;
      document.getElementById("forget").hidden = false;
      showError("");
      renderSources();
      if (!S.source && S.sources.length) select(S.sources.find((s) => s.metrics.length) || S.sources[0]);
    } catch (err) {
      if (err.message !== "unauthorized") showError("Could not list the sources: " + err.message);
    }
  }

  function renderSources() {
    const q = document.getElementById("filter").value.trim().toLowerCase();
    const shown = S.sources.filter((s) => !q || label(s).toLowerCase().includes(q) || s.source.toLowerCase().includes(q));
    const part = (title, list) => (list.length ? [el("h3", { text: title }), ...list.map(item)] : []);
    const host = document.getElementById("sources");
    host.replaceChildren(
      ...part("Monitored services", shown.filter((s) => s.service)),
      ...part("Sources", shown.filter((s) => !s.service)));
    if (!shown.length) host.append(el("p", { class: "muted small", style: null, text: q ? "No source matches." : "No sources yet." }));
  }

  function item(s) {
    const h = /^[a-z]+$/.test(s.health) ? s.health : "empty";
    const count = s.metrics.length + (s.metrics.length === 1 ? " metric" : " metrics");
    return el("button", {
      class: "src h-" + h, type: "button", "aria-current": S.source && S.source.source === s.source ? "true" : "false",
      "data-source": s.source, onclick: () => select(s),
    },
    el("span", { class: "dot", "aria-hidden": "true" }),
    el("span", { class: "txt" },
      el("span", { class: "nm", text: label(s) }),
      el("span", { class: "meta", text: count + " · " + (s.lastSeen ? "last data " + ago(s.lastSeen) : "no data") })),
    el("span", { class: "hl", text: HEALTH[h] || h }));
  }

  function select(s) {
    S.source = s;
    const metrics = s.metrics;
    S.metric = metrics.includes(S.metric) ? S.metric : (metrics.includes("response_ms") ? "response_ms" : metrics[0] || null);
    const sel = document.getElementById("metric");
    sel.replaceChildren(...metrics.map((m) => el("option", { value: m, text: m, selected: m === S.metric })));
    sel.disabled = !metrics.length;
    document.getElementById("view-h").textContent = label(s);
    document.getElementById("view-sub").textContent = (s.service ? "Service · source " + s.source : "Source") +
      " · " + (HEALTH[s.health] || s.health) + (s.lastSeen ? " · last data " + dateTime(s.lastSeen) : "");
    renderSources();
    loadChart();
  }

  // ------------------------------------------------------------------------------------------------
  // Chart

  function chartParams() {
    const p = { source: S.source.source, metric: S.metric, resolution: document.getElementById("resolution").value,
      tz: Upstat.timeZone(), percentiles: "true" };
    if (S.start) { p.start = S.start; if (S.end) p.end = S.end; } else p.range = S.range;
    return p;
  }

  function renderRanges() {
    document.getElementById("ranges").replaceChildren(...RANGES.map((r) => el("button", {
      type: "button", text: r, "aria-pressed": !S.start && r === S.range ? "true" : "false",
      onclick: () => { S.range = r; S.start = S.end = null; renderRanges(); loadChart(); },
    })));
  }

  async function loadChart() {
    const host = document.getElementById("chart");
    const csv = document.getElementById("csv");
    if (S.chart) { S.chart.destroy(); S.chart = null; }
    host.replaceChildren();
    document.getElementById("stats").replaceChildren();
    csv.disabled = true;
    if (!S.source || !S.metric) { host.append(el("p", { class: "muted", text: "This source has no metric yet." })); return; }
    let body;
    try {
      const res = await api("v1/chart", chartParams());
      body = await res.json();
      if (!res.ok) throw new Error(body.message || "HTTP " + res.status);
    } catch (err) {
      if (err.message !== "unauthorized") host.append(el("p", { class: "notice error", text: err.message }));
      return;
    }
    showError("");
    csv.disabled = false;
    const times = body.points.map((p) => p[0]);
    const values = body.points.map((p) => p[1]);
    const isMs = /_ms$/.test(body.metric);
    const fmt = (v) => (v === null || v === undefined ? "—" : isMs ? ms(v) : num(v));
    document.getElementById("chart-note").textContent = body.count + " points · " + body.resolution + " buckets (" +
      body.aggregate + ", empty buckets " + body.fill + ") · tier " + body.tier + " · " + dateTime(body.start) + " – " + dateTime(body.end);
    S.chart = lineChart(host, times, [{ label: body.metric, values, color: "--accent", width: 2 }], { height: 300, format: fmt });
    renderStats(body.stats || {}, fmt);
  }

  function num(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2) + " G";
    if (a >= 1e6) return (v / 1e6).toFixed(2) + " M";
    if (a >= 1e4) return (v / 1e3).toFixed(1) + " k";
    return String(Math.round(v * 100) / 100);
  }

  function renderStats(st, fmt) {
    const rows = [["min", st.min], ["max", st.max], ["avg", st.avg], ["total", st.total], ["p50", st.p50],
      ["p95", st.p95], ["p99", st.p99]].map(([k, v]) => [k, fmt(v)]);
    rows.push(["trend", st.trend || "—"], ["points", st.count === undefined ? "—" : String(st.count)]);
    document.getElementById("stats").replaceChildren(...rows.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { text: v }))));
  }

  async function downloadCsv() {
    try {
      const res = await api("v1/chart", { ...chartParams(), format: "csv" });
      if (!res.ok) throw new Error("HTTP " + res.status);
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const name = (label(S.source) + "-" + S.metric + "-" + (S.start ? "custom" : S.range)).replace(/[^\w.-]+/g, "_") + ".csv";
      const a = el("a", { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      if (err.message !== "unauthorized") showError("Could not download the CSV: " + err.message);
    }
  }

  function applyCustom() {
    const start = document.getElementById("start").value;
    const end = document.getElementById("end").value;
    if (!start) { showError("Choose a start date and time for a custom range."); return; }
    S.start = new Date(start).toISOString().replace(/\.\d+Z$/, "Z");
    S.end = end ? new Date(end).toISOString().replace(/\.\d+Z$/, "Z") : null;
    renderRanges();
    loadChart();
  }

  document.addEventListener("DOMContentLoaded", () => {
    renderRanges();
    document.getElementById("keyform").addEventListener("submit", (e) => {
      e.preventDefault();
      sessionStorage.setItem(KEY_STORE, document.getElementById("key").value.trim());
      document.getElementById("key").value = "";
      loadSources();
    });
    document.getElementById("forget").addEventListener("click", () => { S.source = null; needKey(""); });
    document.getElementById("filter").addEventListener("input", renderSources);
    document.getElementById("metric").addEventListener("change", (e) => { S.metric = e.target.value; loadChart(); });
    document.getElementById("resolution").addEventListener("change", loadChart);
    document.getElementById("apply").addEventListener("click", applyCustom);
    document.getElementById("csv").addEventListener("click", downloadCsv);
    if (key()) loadSources(); else needKey("");
    setInterval(() => { if (key() && !document.hidden) loadSources(); }, 60000);
  });
})();
