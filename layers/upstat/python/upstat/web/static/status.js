// The public status page. One request per refresh: v1/status/page (relative, so a stage path in front of
// the API keeps working), revalidated with its ETag, so an unchanged page costs a 304 and no redraw.
// The refresh period is 60 s; ?refresh=N (seconds) changes it (tests use it).
"use strict";

(() => {
  const { el, pct, ms, duration, dateTime, day, showTip, hideTip, lineChart } = Upstat;
  const KEY_STORE = "upstat.key";
  const PAGE_LABELS = {
    operational: "All systems operational",
    degraded: "Degraded performance",
    partial_outage: "Partial outage",
    major_outage: "Major outage",
    maintenance: "Scheduled maintenance in progress",
    pending: "Waiting for the first checks",
  };
  const STATE_LABELS = {
    up: "Operational", degraded: "Degraded", down: "Down", maintenance: "Maintenance", pending: "Pending",
    paused: "Paused",
  };
  const RANGES = ["24h", "7d", "30d"];
  const RANGE_WORDS = { "24h": "24 hours", "7d": "7 days", "30d": "30 days" };
  const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

  const params = new URLSearchParams(location.search);
  const refreshS = Math.min(3600, Math.max(1, Number(params.get("refresh")) || 60));
  const S = { range: "24h", tz: Upstat.timeZone(), etag: null, data: null, open: new Set(), charts: [], busy: false };

  function stateOf(word) { return /^[a-z_]+$/.test(word) ? word : "unknown"; }

  function barClass(u) {
    if (u === null || u === undefined) return "bar";
    if (u >= 99.9) return "bar u-ok";
    if (u >= 99) return "bar u-near";
    if (u >= 95) return "bar u-warn";
    return "bar u-bad";
  }

  // ------------------------------------------------------------------------------------------------
  // Loading

  async function load() {
    if (S.busy) return;
    S.busy = true;
    const headers = { Accept: "application/json" };
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) headers.Authorization = "Bearer " + key;
    if (S.etag) headers["If-None-Match"] = S.etag;
    const query = new URLSearchParams({ tz: S.tz, range: S.range });
    try {
      const res = await fetch("v1/status/page?" + query, { headers, cache: "no-store" });
      if (res.status === 304) { showError(""); return; }
      if (res.status === 401 || res.status === 403) {
        document.getElementById("keyform").hidden = false;
        setBanner("pending", "This status page is private", "");
        showError(key ? "That key cannot read the status." : "");
        return;
      }
      const body = await res.json();
      if (res.status === 400 && body.field === "tz" && S.tz !== "UTC") { S.tz = "UTC"; S.busy = false; return load(); }
      if (!res.ok) throw new Error(body.message || "HTTP " + res.status);
      document.getElementById("keyform").hidden = true;
      showError("");
      S.etag = res.headers.get("ETag");
      S.data = body;
      render(body);
    } catch (err) {
      showError("Could not load the status (" + err.message + "). Retrying in " + refreshS + " s.");
    } finally {
      S.busy = false;
    }
  }

  function showError(text) {
    const node = document.getElementById("error");
    node.textContent = text;
    node.hidden = !text;
  }

  // ------------------------------------------------------------------------------------------------
  // Rendering

  function setBanner(state, title, sub) {
    const banner = document.getElementById("banner");
    banner.className = "banner state-" + state;
    document.getElementById("banner-title").textContent = title;
    document.getElementById("updated").textContent = sub;
  }

  function render(body) {
    const focusKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    const state = stateOf(body.state);
    setBanner(state, PAGE_LABELS[state] || "Status unknown",
      body.updated ? "Last check " + dateTime(body.updated) : "No check has run yet");
    document.getElementById("tz").textContent = body.tz === S.tz ? S.tz.replace(/_/g, " ") : body.tz;
    document.getElementById("logo-text").textContent = body.title;
    document.title = body.title;
    renderNotices(body);
    for (const c of S.charts) c.destroy();
    S.charts = [];
    const host = document.getElementById("services");
    host.replaceChildren(...body.groups.map((g) => group(g, body)));
    if (!body.groups.length) host.append(el("p", { class: "card empty", text: "No services are shown on this page yet." }));
    host.setAttribute("aria-busy", "false");
    renderMaintenance(body.maintenance || []);
    renderIncidents(body.incidents || []);
    for (const name of S.open) drawChart(name);
    if (focusKey) {
      const again = document.querySelector('[data-key="' + CSS.escape(focusKey) + '"]');
      if (again) again.focus();
    }
  }

  function renderNotices(body) {
    const items = [];
    for (const w of body.maintenance || []) {
      if (!w.active) continue;
      items.push(el("div", { class: "card callout maint" },
        el("span", { class: "pill s-maintenance" }, el("span", { class: "dot" })),
        el("div", {},
          el("p", {}, el("strong", { text: "Maintenance in progress: " + (w.title || "maintenance") })),
          el("p", { class: "muted small", text: affected(w) + " · until " + dateTime(w.end) }))));
    }
    for (const i of body.incidents || []) {
      if (!i.open) continue;
      items.push(el("div", { class: "card callout" },
        el("span", { class: "pill s-down" }, el("span", { class: "dot" })),
        el("div", {},
          el("p", {}, el("strong", { text: i.service + " is down" })),
          el("p", { class: "muted small", text: i.cause + " · since " + dateTime(i.start) + " (" + duration(Date.now() - i.start) + ")" }))));
    }
    document.getElementById("notices").replaceChildren(...items);
  }

  function group(g, body) {
    const count = g.services.length;
    const down = g.services.filter((s) => s.state === "down").length;
    const title = g.name || (body.groups.length > 1 ? "Other services" : "Services");
    return el("section", { class: "group", "aria-label": title },
      el("h2", {}, document.createTextNode(title),
        el("span", { class: "muted small", text: down ? down + " of " + count + " down" : count + (count === 1 ? " service" : " services") })),
      el("div", { class: "card" }, ...g.services.map((s) => service(s, body))));
  }

  function service(s, body) {
    const state = stateOf(s.state);
    const label = STATE_LABELS[state] || state;
    const rt = s.responseTime === null || s.responseTime === undefined ? null : ms(s.responseTime);
    const panelId = "chart-" + slug(s.name);
    const open = S.open.has(s.name);
    const art = el("article", { class: "svc", "data-service": s.name, "data-state": state },
      el("div", { class: "svc-head" },
        el("div", { class: "svc-name" }, el("h3", { text: s.name }), s.description ? el("p", { text: s.description }) : null),
        el("div", { class: "svc-state" },
          el("span", { class: "pill s-" + state }, el("span", { class: "dot", "aria-hidden": "true" }), document.createTextNode(label)),
          rt ? el("span", { class: "rt", text: rt, title: "Response time of the last check" }) : null)),
      bars(s, body),
      el("div", { class: "bars-foot", "aria-hidden": "true" },
        el("span", { text: "90 days ago" }), el("span", { class: "mid" }),
        el("span", { text: pct(s.uptime["90d"]) + " uptime" }), el("span", { class: "mid" }), el("span", { text: "Today" })),
      el("ul", { class: "uptimes", "aria-label": "Uptime" },
        ...[["24h", "24 h"], ["7d", "7 days"], ["30d", "30 days"], ["90d", "90 days"]].map(([k, w]) =>
          el("li", {}, document.createTextNode(w + " "), el("b", { text: pct(s.uptime[k]) }), partly(s.coverage, k)))),
      el("button", {
        class: "disclose", type: "button", "aria-expanded": open ? "true" : "false", "aria-controls": panelId,
        "data-key": "disc:" + s.name, onclick: (e) => toggle(s.name, e.currentTarget),
      }, document.createTextNode("Response time")),
      el("div", { class: "chart-panel", id: panelId, hidden: !open }));
    return art;
  }

  function slug(name) { return Array.from(name).map((c) => c.codePointAt(0).toString(36)).join("-"); }

  // ------------------------------------------------------------------------------------------------
  // Daily bars: hover, tap or drag shows a day; the arrow keys move between days when focused.

  // Below this share of its expected checks, a figure says how much of its window it stands for: upstat
  // itself did not check all the time (the rest is unknown, not up).
  const COVERED = 99.5;

  function partly(coverage, k) {
    const cov = coverage ? coverage[k] : null;
    if (cov === null || cov === undefined || cov >= COVERED) return null;
    return el("span", { class: "cov", text: " (checked " + pct(cov) + " of the time)" });
  }

  function bars(s, body) {
    const b = s.bars;
    const dates = body.days.dates;
    const node = el("div", {
      class: "bars", tabindex: "0", role: "img", "data-key": "bars:" + s.name,
      "aria-label": "Daily uptime of " + s.name + " over 90 days: " + pct(s.uptime["90d"]) + ". Use the arrow keys to read each day.",
    }, ...dates.map((d, i) => el("span", { class: barClass(b.uptime[i]) })));
    let current = -1;
    const lines = (i) => {
      const out = [day(dates[i])];
      if (b.uptime[i] === null) out.push(b.incidents[i] ? "No checks recorded" : "No data");
      else out.push("Uptime " + pct(b.uptime[i]));
      if (b.downtimeMinutes[i]) out.push(duration(b.downtimeMinutes[i] * 60000) + " down");
      if (b.incidents[i]) out.push(b.incidents[i] + (b.incidents[i] === 1 ? " incident" : " incidents"));
      else if (b.uptime[i] !== null) out.push("No incidents");
      if (b.downChecks[i]) out.push(b.downChecks[i] + " of " + b.checks[i] + " checks failed");
      const cov = b.coverage ? b.coverage[i] : null;
      if (cov !== null && cov < COVERED) out.push("Checked " + pct(cov) + " of the time; the rest is unknown");
      return out;
    };
    const select = (i, announce) => {
      i = Math.max(0, Math.min(dates.length - 1, i));
      if (current >= 0 && node.children[current]) node.children[current].classList.remove("sel");
      current = i;
      const bar = node.children[i];
      bar.classList.add("sel");
      const text = lines(i);
      showTip(bar, text);
      if (announce) document.getElementById("live").textContent = text.join(", ");
    };
    const clear = () => {
      if (current >= 0 && node.children[current]) node.children[current].classList.remove("sel");
      current = -1;
      hideTip();
    };
    const at = (x) => {
      const r = node.getBoundingClientRect();
      return Math.floor(((x - r.left) / r.width) * dates.length);
    };
    node.addEventListener("pointermove", (e) => select(at(e.clientX), false));
    node.addEventListener("pointerdown", (e) => select(at(e.clientX), false));
    node.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse") clear(); });
    node.addEventListener("focus", () => select(current >= 0 ? current : dates.length - 1, true));
    node.addEventListener("blur", clear);
    node.addEventListener("keydown", (e) => {
      const moves = { ArrowLeft: -1, ArrowRight: 1, Home: -dates.length, End: dates.length, PageUp: -7, PageDown: 7 };
      if (e.key in moves) { e.preventDefault(); select(current + moves[e.key], true); }
      else if (e.key === "Escape") clear();
    });
    return node;
  }

  // ------------------------------------------------------------------------------------------------
  // Response-time charts

  function toggle(name, button) {
    const panel = document.getElementById(button.getAttribute("aria-controls"));
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    panel.hidden = !open;
    if (open) { S.open.add(name); drawChart(name); } else { S.open.delete(name); panel.replaceChildren(); }
  }

  function findService(name) {
    for (const g of S.data.groups) for (const s of g.services) if (s.name === name) return s;
    return null;
  }

  function drawChart(name) {
    const s = findService(name);
    const panel = document.querySelector('.svc[data-service="' + CSS.escape(name) + '"] .chart-panel');
    if (!s || !panel) return;
    const chart = S.data.chart;
    const rt = s.responseTimes;
    const seg = el("div", { class: "seg", role: "group", "aria-label": "Chart range" },
      ...RANGES.map((r) => el("button", {
        type: "button", "aria-pressed": r === S.range ? "true" : "false", text: r, "data-key": "range:" + name + ":" + r,
        onclick: () => { if (S.range !== r) { S.range = r; S.etag = null; load(); } },
      })));
    const host = el("div", { class: "chart", "data-chart": name });
    const st = rt.stats;
    const stats = el("dl", { class: "stats" },
      ...[["avg", st.avg], ["p50", st.p50], ["p95", st.p95], ["p99", st.p99], ["min", st.min], ["max", st.max]].map(([k, v]) =>
        el("div", {}, el("dt", { text: k }), el("dd", { text: ms(v) }))));
    const note = chart.perBucketPercentiles
      ? "Average, p50 and p95 of each " + chart.resolution + " bucket over the last " + RANGE_WORDS[chart.range] + "."
      : "Average of each " + chart.resolution + " bucket over the last " + RANGE_WORDS[chart.range] +
        " (single checks, and so p50/p95 per bucket, are kept for the last 48 h)." + (st.exact ? "" : " Percentiles approximated from bucket averages.");
    panel.replaceChildren(
      el("div", { class: "chart-bar" }, el("span", { class: "muted small", text: "Response time, last " + RANGE_WORDS[chart.range] }), seg),
      host, stats, el("p", { class: "chart-note", text: note }));
    const series = [{ label: "avg", values: rt.avg, color: "--accent", width: 2 }];
    if (chart.perBucketPercentiles) {
      series.push({ label: "p50", values: rt.p50, color: "--ok", width: 1.5 });
      series.push({ label: "p95", values: rt.p95, color: "--warn", width: 1.5, dash: [5, 4] });
    }
    if (!st.count) host.append(el("p", { class: "muted small", text: "No response times in this range." }));
    else S.charts.push(lineChart(host, chart.times, series, { height: 180, format: ms, axisFormat: (v) => ms(v) }));
  }

  // ------------------------------------------------------------------------------------------------
  // Incidents and maintenance

  function affected(w) { return w.services ? w.services.join(", ") : "All services"; }

  function recurrence(r) {
    const days = r.days.length === 7 ? "Every day" : "Every " + r.days.map((d) => WEEKDAYS[d]).join(", ");
    return days + " at " + r.start + " (" + r.tz + ") for " + duration(r.durationMinutes * 60000);
  }

  function renderMaintenance(list) {
    document.getElementById("maintenance-section").hidden = !list.length;
    document.getElementById("maintenance").replaceChildren(...list.map((w) =>
      el("li", {},
        el("div", { class: "head" },
          el("span", { class: "title", text: w.title || "Maintenance" }),
          el("span", { class: "badge " + (w.active ? "active" : "upcoming"), text: w.active ? "In progress" : "Scheduled" })),
        el("p", { class: "small", text: dateTime(w.start) + " – " + dateTime(w.end) + " · " + affected(w) }),
        w.recurring ? el("p", { class: "small muted", text: recurrence(w.recurring) }) : null)));
  }

  function renderIncidents(list) {
    const host = document.getElementById("incidents");
    if (!list.length) { host.replaceChildren(el("li", { class: "empty", text: "No incidents in the last 14 days." })); return; }
    host.replaceChildren(...list.map((i) =>
      el("li", { "data-incident": i.service },
        el("div", { class: "head" },
          el("span", { class: "title", text: i.service + " — " + i.cause }),
          el("span", { class: "badge " + (i.open ? "open" : "resolved"), text: i.open ? "Ongoing" : "Resolved" })),
        el("p", { class: "small muted", text: i.open
          ? "Since " + dateTime(i.start) + " · " + duration(Date.now() - i.start) + " so far"
          : dateTime(i.start) + " – " + dateTime(i.end) + " · lasted " + duration(i.durationMs) }))));
  }

  // ------------------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("keyform").addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(KEY_STORE, document.getElementById("key").value);
      S.etag = null;
      load();
    });
    document.addEventListener("pointerdown", (e) => { if (!e.target.closest(".bars")) hideTip(); });
    document.getElementById("refresh-note").textContent = "Refreshes every " + (refreshS >= 60 && refreshS % 60 === 0 ? refreshS / 60 + " min" : refreshS + " s");
    load();
    setInterval(load, refreshS * 1000);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
  });
})();
