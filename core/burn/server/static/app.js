// The burn dashboard: one request for the whole page (/v1/analytics/page), drawn with Chart.js.
// Money arrives as integer micro-USD and is shown in dollars; the charts keep the integers.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  const charts = {};
  const scheme = window.matchMedia("(prefers-color-scheme: dark)");
  const palette = ["#4c6ef5", "#f76707", "#12b886", "#e64980", "#fab005", "#7950f2", "#15aabf", "#82c91e", "#868e96"];
  function theme() {
    Chart.defaults.color = scheme.matches ? "#c8cad0" : "#3b3d42";
    Chart.defaults.borderColor = scheme.matches ? "#2c2f35" : "#e2e3e6";
  }
  theme();
  // Light and dark follow the system, also when it changes while the page is open.
  scheme.addEventListener("change", () => { theme(); if (window.burnLast) render(window.burnLast); });

  // Integer micro-USD as "$1,234.56", rounded half-even to cents like burn's text reports
  // (burn.text.money.usd): integer arithmetic only, "-" for unknown, "<$0.01" for a tiny amount.
  function usd(micros) {
    if (micros === null || micros === undefined) return "-";
    const neg = micros < 0; const m = Math.abs(micros);
    let cents = Math.floor(m / 10000); const rest = m % 10000;
    if (rest > 5000 || (rest === 5000 && cents % 2 === 1)) cents += 1;
    if (cents === 0 && m !== 0) return (neg ? "-" : "") + "<$0.01";
    const whole = Math.floor(cents / 100).toLocaleString("en-US");
    return (neg && cents ? "-$" : "$") + whole + "." + String(cents % 100).padStart(2, "0");
  }
  function num(n) { return n === null || n === undefined ? "-" : n.toLocaleString("en-US"); }
  function pct(r) { return r === null || r === undefined ? "–" : (Number(r) * 100).toFixed(1) + "%"; }
  window.burnFormat = { usd, num, pct };

  function query() {
    const p = new URLSearchParams();
    for (const id of ["range", "project", "source", "model", "bucket"]) {
      const v = $(id).value; if (v) p.set(id, v);
    }
    p.set("timezone", Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
    return p;
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), config);
  }
  const money = { callbacks: { label: (c) => `${c.dataset.label || c.label}: ${usd(c.raw)}` } };
  const moneyAxis = { ticks: { callback: (v) => usd(v) } };

  function fill(select, values, label) {
    const keep = select.value;
    select.replaceChildren(new Option(select.options[0].text, ""));
    for (const v of values) select.add(new Option(label ? label(v) : v, typeof v === "string" ? v : v.key));
    select.value = keep;
  }

  function render(doc) {
    const d = doc.data; const s = d.summary;
    $("card-total").textContent = usd(s.total_usd_micros);
    $("card-today").textContent = usd(s.today_usd_micros);
    $("card-per-day").textContent = usd(s.per_active_day_usd_micros);
    $("card-cache").textContent = pct(s.cache_hit_ratio);
    $("card-sessions").textContent = num(s.sessions);
    $("card-turns").textContent = num(s.turns);
    const t = d.spend_over_time;
    draw("chart-time", { type: "bar", data: { labels: t.labels, datasets: t.series.map((x, i) => ({
      label: x.model, data: x.usd_micros, backgroundColor: palette[i % palette.length] })) },
      options: { maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false },
        plugins: { tooltip: money }, scales: { x: { stacked: true }, y: { stacked: true, ...moneyAxis } } } });
    const pr = d.projects.slice(0, 12);
    draw("chart-projects", { type: "bar", data: { labels: pr.map((p) => p.label.length > 40 ? p.label.slice(0, 12) + "…" + p.label.slice(-8) : p.label),
      datasets: [{ label: "spend", data: pr.map((p) => p.cost_usd_micros || 0), backgroundColor: palette[0] }] },
      options: { indexAxis: "y", maintainAspectRatio: false, animation: false, plugins: { legend: { display: false }, tooltip: money }, scales: { x: moneyAxis } } });
    draw("chart-models", { type: "doughnut", data: { labels: d.models.map((m) => m.model),
      datasets: [{ data: d.models.map((m) => m.cost_usd_micros || 0), backgroundColor: palette }] },
      options: { maintainAspectRatio: false, animation: false, plugins: { tooltip: money, legend: { position: "right" } } } });
    const body = $("table-models").tBodies[0];
    body.replaceChildren(...d.models.map((m) => { const tr = document.createElement("tr");
      for (const v of [m.model, usd(m.cost_usd_micros), num(m.tokens.total), num(m.turns)]) tr.insertCell().textContent = v;
      return tr; }));
    const ag = d.agents;
    draw("chart-agents", { type: "bar", data: { labels: ag.by_agent_type.map((a) => a.agent_type),
      datasets: [{ label: "spend", data: ag.by_agent_type.map((a) => a.cost_usd_micros || 0), backgroundColor: palette[2] }] },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false }, tooltip: money }, scales: { y: moneyAxis } } });
    $("roles").textContent = `Root sessions: ${usd(ag.root && ag.root.cost_usd_micros)} · subagents: ${usd(ag.subagent && ag.subagent.cost_usd_micros)}`;
    const tm = d.timing;
    $("timing-empty").hidden = tm.available; $("timing-chart").hidden = !tm.available;
    if (tm.available) {
      const h = tm.duration_ms.histogram;
      draw("chart-timing", { type: "bar", data: { labels: h.map((b) => b.to === null ? `≥${b.from / 1000}s` : `${b.from / 1000}–${b.to / 1000}s`),
        datasets: [{ label: "turns", data: h.map((b) => b.count), backgroundColor: palette[5] }] },
        options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } } } });
      const q = tm.duration_ms;
      $("timing-stats").textContent = `Turn duration p50 ${q.p50} ms · p90 ${q.p90} ms · p99 ${q.p99} ms`;
    } else { $("timing-stats").textContent = ""; }
    fill($("project"), d.choices.projects, (p) => p.label);
    fill($("source"), d.choices.sources); fill($("model"), d.choices.models);
    $("footer").textContent = `${doc.meta.timezone} · archive generation ${doc.meta.archive.generation} · burn ${doc.meta.burn_version}`;
    window.burnLast = doc;
    document.body.dataset.loaded = String((Number(document.body.dataset.loaded) || 0) + 1);
  }

  let latest = 0;
  async function load() {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const seq = ++latest;
    const r = await fetch(`/v1/analytics/page?${query()}`, { headers });
    const doc = await r.json();
    if (seq !== latest) return; // a newer filter change is on its way: drop this answer
    if (!r.ok) { $("footer").textContent = doc.message || "error"; return; }
    render(doc);
  }
  window.burnCharts = charts;
  $("filters").addEventListener("change", load);
  load();
})();
