"use strict";
// Data from the API reaches the DOM only through textContent and attribute setters, never as
// markup: pool names, labels and Slack's error bodies come from outside.
const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);
let last = null, lastOk = 0, busy = false;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}
function text(id, value) { $(id).textContent = value; }
function dur(s) {
  if (s === null || s === undefined) return "–";
  s = Math.max(0, Math.round(s));
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), x = s % 60;
  if (d) return d + "d " + h + "h";
  if (h) return h + "h " + m + "m";
  if (m) return m + "m " + x + "s";
  return x + "s";
}
function when(iso) {
  if (!iso) return "–";
  const t = new Date(iso);
  return isNaN(t) ? iso : t.toLocaleString();
}
function bytes(n) {
  if (n === null || n === undefined) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}
function labels(l) {
  const parts = Object.entries(l || {}).map(([k, v]) => k + "=" + v);
  return parts.length ? parts.join(", ") : "";
}
function num(v) { return Number.isInteger(v) ? String(v) : Number(v).toFixed(2); }

function renderTraffic(s) {
  const p = s.pools;
  const serving = $("serving-pool");
  serving.textContent = p.serving || "no traffic yet";
  serving.dataset.pool = p.serving || "";
  serving.className = "big " + (p.on_primary ? "ok" : "bad");
  text("serving-since", p.serving ? "since " + when(p.serving_since) + " (" + dur(p.serving_for_seconds) + ")" : "");
  text("active-pool", p.active);
  const st = $("pool-state");
  st.textContent = p.serving === null ? "waiting for traffic" : p.on_primary ? "on the primary" : "FAILED OVER to " + p.serving;
  st.className = p.on_primary ? "ok" : "bad";
}

function renderAlerts(s) {
  const ul = $("alerts");
  ul.replaceChildren();
  for (const a of s.alerts) {
    const quiet = !a.announced;
    const li = el("li", {"class": "alert firing" + (quiet ? " muted" : ""), "data-rule": a.rule, "data-state": a.state},
      el("strong", {}, a.rule.toUpperCase()), " ",
      el("span", {}, a.kind === "failover" && a.labels.pool ? "traffic off primary " + a.labels.pool + (s.pools.serving ? ", served by " + s.pools.serving : "") : labels(a.labels)),
      el("div", {"class": "muted"}, "firing for " + dur(a.age_seconds) + " (since " + when(a.active_since) + ")"),
      el("div", {"class": "muted"}, (a.kind === "error_rate" ? "error rate " + num(a.value) + "% > " + num(a.threshold) + "% · " : "") +
        (a.announced ? "announced" : "not announced: " + a.decision) + (a.suppressed ? " · " + a.suppressed + " suppressed" : "")));
    ul.append(li);
  }
  text("firing-count", s.alerts.length);
  $("firing-count").className = "badge" + (s.alerts.length ? " bad" : "");
  $("no-alerts").hidden = s.alerts.length > 0;
}

function renderMaintenance(s) {
  const m = s.maintenance;
  $("maintenance").dataset.enabled = m.enabled;
  const state = $("maintenance-state");
  state.textContent = m.enabled ? "ON" : "off";
  state.className = "big " + (m.enabled ? "warn" : "muted");
  text("maintenance-until", m.enabled ? (m.until ? "until " + when(m.until) : "until turned off") : "alerts are sent normally");
  $("maintenance-buttons").hidden = !s.admin_api;
}

function renderRules(s) {
  const body = $("rules");
  body.replaceChildren();
  for (const r of s.rules) {
    const pct = r.unit === "percent";
    const secs = r.unit === "seconds";  // latency: the window's quantile against the threshold
    const meter = el("div", {"class": "meter" + (r.firing ? " bad" : "")}, el("span", {}));
    const ratio = r.threshold > 0 ? Math.min(1, r.value / (pct ? Math.max(r.threshold * 2, 1) : secs || r.unit === "burn_rate" ? r.threshold * 2 : r.threshold)) : 0;
    meter.firstChild.style.width = (ratio * 100).toFixed(0) + "%";
    // traffic: requests in the window (seconds watched / window seconds), firing below the minimum.
    const requests = r.unit === "requests";
    const ms = v => Math.round(v * 1000) + " ms";
    // slo: the error budget's burn rate over the first long window against its rate.
    const burn = r.unit === "burn_rate";
    const value = burn ? num(r.value) + "× / " + num(r.threshold) + "×"
      : pct ? num(r.value) + "% / " + num(r.threshold) + "%"
      : secs ? ms(r.value) + " / " + ms(r.threshold)
      : requests ? num(r.value) + " requests / min " + num(r.threshold)
      : (r.value >= r.threshold ? "off primary" : "on primary");
    const win = r.window_size ? r.window_fill + " / " + r.window_size + (requests ? " s" : "") : "–";
    body.append(el("tr", {"class": "rule" + (r.firing ? " bad" : ""), "data-rule": r.name, "data-firing": r.firing},
      el("td", {}, r.name), el("td", {}, labels(r.labels) || "–"),
      el("td", {"class": "num"}, value, pct || secs || burn ? meter : null), el("td", {"class": "num"}, win),
      el("td", {"class": "num"}, r.firing ? "firing " + dur(r.for_seconds) : dur(r.for_seconds)),
      el("td", {}, r.decision)));
  }
}

function renderDeliveries(s) {
  const n = s.notifications;
  text("destinations", n.destinations.length ? "Alerts go to " + n.destinations.join(", ") : "No destination configured.");
  const body = $("deliveries");
  body.replaceChildren();
  for (const d of n.recent.slice(0, 10)) {
    // "skipped": the notifier had nothing to send (a held-back flap), which is not a fault.
    const cls = d.result === "sent" || d.result === "skipped" ? "ok" : d.result === "retrying" ? "warn" : "bad";
    const err = d.error + (d.http_status ? " (HTTP " + d.http_status + ")" : "");
    body.append(el("tr", {"class": "delivery", "data-result": d.result},
      el("td", {"class": "num"}, when(d.time)), el("td", {}, d.key + " " + d.status),
      el("td", {}, d.notifier), el("td", {"class": cls}, d.result + (d.attempt > 1 ? " (attempt " + d.attempt + ")" : "")),
      el("td", {}, d.error ? err : "")));
  }
  $("no-deliveries").hidden = n.recent.length > 0;
}

// Each input as configured: the files of log.path (none for a syslog-only poolwatch, where no
// "file not open" may show), each log.syslog.listen socket.
function renderInputs(s) {
  const i = s.inputs;
  text("log-lines", s.log.lines_parsed + " parsed, " + s.log.lines_malformed + " malformed");
  text("log-last", when(s.log.last_record_time));
  $("files-block").hidden = i.patterns.length === 0 && i.files.length === 0;
  text("file-patterns", "log.path: " + i.patterns.join(", "));
  const files = $("files");
  files.replaceChildren();
  for (const f of i.files) {
    const lag = el("td", {"class": "num" + (f.lag_bytes > 1048576 ? " warn" : "")}, bytes(f.lag_bytes));
    files.append(el("tr", {"class": "file", "data-healthy": f.healthy},
      el("td", {}, el("code", {}, f.path)),
      el("td", {"class": f.healthy ? "ok" : "bad"}, f.healthy ? "reading" : (f.problem || "file not open")),
      el("td", {"class": "num"}, bytes(f.offset) + " of " + bytes(f.size)), lag,
      el("td", {}, f.last_rotation ? when(f.last_rotation) + " (" + f.rotations + " rotations, " + f.truncations + " truncations)" : "none since start")));
  }
  const none = $("no-files");
  none.hidden = i.files.length > 0;
  none.textContent = "No file matches " + i.patterns.join(", ") + " yet.";
  $("syslog-block").hidden = i.syslog.length === 0;
  const listeners = $("syslog");
  listeners.replaceChildren();
  for (const l of i.syslog) {
    listeners.append(el("tr", {"class": "listener"},
      el("td", {}, el("code", {}, l.address)), el("td", {"class": "num"}, l.received),
      el("td", {"class": "num" + (l.malformed ? " warn" : "")}, l.malformed),
      el("td", {"class": "num" + (l.oversized ? " warn" : "")}, l.oversized),
      el("td", {"class": "num" + (l.dropped ? " bad" : "")}, l.dropped)));
  }
}

function render(s) {
  last = s;
  text("meta", s.instance + " · " + s.version);
  const o = $("overall");
  const state = s.alerts.length ? "firing" : s.maintenance.enabled ? "maintenance" : "ok";
  o.dataset.state = state;
  o.textContent = state === "firing" ? s.alerts.length + " firing" : state === "maintenance" ? "maintenance" : "all good";
  o.className = "badge" + (state === "firing" ? " bad" : state === "maintenance" ? " warn" : "");
  document.title = (state === "firing" ? "🔴 " : "") + "poolwatch · " + (s.pools.serving || "–");
  renderTraffic(s); renderAlerts(s); renderMaintenance(s); renderRules(s); renderDeliveries(s); renderInputs(s);
}

async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const r = await fetch("api/v1/status", {cache: "no-store", headers: {"Accept": "application/json"}});
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    lastOk = Date.now();
    $("banner").className = "";
    text("updated", "updated " + new Date(lastOk).toLocaleTimeString());
    document.body.dataset.loaded = "true";
  } catch (e) {
    const b = $("banner");
    b.className = "show";
    b.textContent = "Cannot reach poolwatch (" + e.message + ")" + (lastOk ? "; showing data from " + dur((Date.now() - lastOk) / 1000) + " ago." : ".");
  } finally {
    busy = false;
  }
}

async function maintenance(enabled, hours) {
  const body = {enabled: enabled};
  if (enabled && hours) body.until = new Date(Date.now() + hours * 3600e3).toISOString().replace(/\.\d+Z$/, "Z");
  const out = $("maintenance-result");
  for (const b of document.querySelectorAll("#maintenance-buttons button")) b.disabled = true;
  try {
    const r = await fetch("api/v1/maintenance", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    const reply = await r.json().catch(() => ({}));
    out.textContent = r.ok ? "Maintenance " + (enabled ? "on" : "off") + "." : "Refused: " + (reply.error || "HTTP " + r.status);
    out.className = r.ok ? "muted" : "bad";
  } catch (e) {
    out.textContent = "Failed: " + e.message;
    out.className = "bad";
  } finally {
    for (const b of document.querySelectorAll("#maintenance-buttons button")) b.disabled = false;
    refresh();
  }
}

for (const b of document.querySelectorAll("#maintenance-buttons button")) {
  b.addEventListener("click", () => {
    if (b.dataset.off) maintenance(false);
    else if (confirm("Mute failover alerts for " + b.dataset.hours + " h?")) maintenance(true, Number(b.dataset.hours));
  });
}
refresh();
setInterval(refresh, REFRESH_MS);
