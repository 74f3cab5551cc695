// Shared by the status page and the dashboard: formatting, the tooltip, charts (uPlot, vendored).
// Text always goes in with textContent (names and titles are user data).
"use strict";

const Upstat = (() => {
  const lang = undefined; // the reader's locale

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = String(v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function pct(v) {
    if (v === null || v === undefined) return "no data";
    if (v >= 100) return "100%";
    return (Math.floor(v * 100) / 100).toFixed(2) + "%"; // 99.999 reads 99.99%, never 100%
  }

  function ms(v) {
    if (v === null || v === undefined) return "—";
    if (v >= 10000) return (v / 1000).toFixed(0) + " s";
    if (v >= 1000) return (v / 1000).toFixed(1) + " s";
    return Math.round(v) + " ms";
  }

  function duration(msv) {
    const m = Math.max(0, Math.round(msv / 60000));
    if (m < 1) return "under a minute";
    if (m < 60) return m + " min";
    const h = Math.floor(m / 60), rest = m % 60;
    if (h < 24) return h + " h" + (rest ? " " + rest + " min" : "");
    const d = Math.floor(h / 24), hr = h % 24;
    return d + " d" + (hr ? " " + hr + " h" : "");
  }

  const dtFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  const timeFormat = new Intl.DateTimeFormat(lang, { timeStyle: "short" });
  const dayFormat = new Intl.DateTimeFormat(lang, { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

  function dateTime(t) { return t ? dtFormat.format(new Date(t)) : "—"; }
  function time(t) { return timeFormat.format(new Date(t)); }
  // A calendar date "YYYY-MM-DD" (already in the reader's zone) in words.
  function day(iso) { return dayFormat.format(new Date(iso + "T12:00:00Z")); }

  function ago(t) {
    if (!t) return "never";
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400 * 2) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  }

  function timeZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { return "UTC"; }
  }

  // The floating tooltip: shown next to an element (or a point), hidden on demand.
  function tip() { return document.getElementById("tip"); }
  function showTip(anchor, lines) {
    const node = tip();
    if (!node) return;
    node.replaceChildren(...lines.map((l, i) => el(i === 0 ? "strong" : "span", { text: l })));
    node.hidden = false;
    const r = anchor.getBoundingClientRect();
    const w = node.offsetWidth, h = node.offsetHeight;
    const left = Math.min(window.innerWidth - w - 8, Math.max(8, r.left + r.width / 2 - w / 2));
    const top = r.top - h - 10 >= 8 ? r.top - h - 10 : r.bottom + 10;
    node.style.left = left + "px";
    node.style.top = top + "px";
  }
  function hideTip() { const node = tip(); if (node) node.hidden = true; }

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  function isolated(values) {
    const has = (i) => i >= 0 && i < values.length && values[i] !== null && values[i] !== undefined;
    return values.some((v, i) => has(i) && !has(i - 1) && !has(i + 1));
  }

  // A line chart: times in ms, series [{label, values, color (a CSS variable), dash, width, unit}].
  function lineChart(host, times, series, opts) {
    const o = opts || {};
    const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line"), width: 1 }, ticks: { stroke: cssVar("--line") } };
    const width = Math.max(200, host.clientWidth || 300);
    const fmtVal = o.format || ((v) => (v === null || v === undefined ? "—" : String(Math.round(v * 100) / 100)));
    const chart = new uPlot({
      width,
      height: o.height || 200,
      ms: 1,
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: (u, min, max) => [Math.min(0, min || 0), (max || 1) * 1.1] } },
      axes: [
        { ...axis, space: 60 },
        { ...axis, size: o.axisSize || 72, values: (u, vals) => vals.map((v) => (o.axisFormat || fmtVal)(v)) },
      ],
      series: [
        { value: (u, t) => (t === null ? "—" : dateTime(t)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: cssVar(s.color) || s.color,
          width: s.width || 2,
          dash: s.dash,
          spanGaps: false,
          // A value between two empty buckets has no line to sit on: draw the points then, or it is lost
          // (data once a minute on 30 s buckets alternates value and empty).
          points: { show: isolated(s.values), size: 5 },
          value: (u, v) => fmtVal(v),
        })),
      ],
    }, [times, ...series.map((s) => s.values)], host);
    const resize = new ResizeObserver(() => {
      const w = Math.max(200, host.clientWidth);
      if (Math.abs(w - chart.width) > 1) chart.setSize({ width: w, height: chart.height });
    });
    resize.observe(host);
    chart.root.setAttribute("aria-hidden", "true");
    return { chart, destroy() { resize.disconnect(); chart.destroy(); } };
  }

  return { el, pct, ms, duration, dateTime, time, day, ago, timeZone, showTip, hideTip, lineChart, cssVar };
})();
