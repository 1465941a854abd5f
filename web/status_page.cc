#include "web/status_page.h"

#include <memory>
#include <utility>

namespace poolwatch {
namespace {

// Data from the API reaches the DOM only through textContent and attribute setters, never
// innerHTML: pool names, labels and Slack's error bodies come from outside.
constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>poolwatch</title>
<style>
:root{--bg:#f6f7f9;--card:#fff;--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--ok:#067647;--okbg:#dcfae6;--bad:#b42318;--badbg:#fee4e2;--warn:#b54708;--warnbg:#fef0c7;--bar:#d0d5dd}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--fg:#e6edf3;--muted:#8b949e;--line:#30363d;--ok:#3fb950;--okbg:#12261e;--bad:#f85149;--badbg:#2d1214;--warn:#d29922;--warnbg:#2b2111;--bar:#30363d}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.75rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
header h1{font-size:1.1rem;margin:0}
#meta,#updated{color:var(--muted);font-size:.85rem}
#updated{margin-left:auto}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,22rem),1fr));gap:1rem;padding:1rem;max-width:80rem;margin:0 auto}
section{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:.9rem 1rem;min-width:0}
section.wide{grid-column:1/-1}
h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 .6rem}
.big{font-size:2rem;font-weight:700;line-height:1.1}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:1rem;font-size:.8rem;font-weight:600;background:var(--okbg);color:var(--ok)}
.badge.bad,.bad .badge{background:var(--badbg);color:var(--bad)}
.badge.warn{background:var(--warnbg);color:var(--warn)}
.bad{color:var(--bad)}.ok{color:var(--ok)}.warn{color:var(--warn)}
.muted{color:var(--muted)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem .9rem;margin:0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.35rem .5rem .35rem 0;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:500;white-space:nowrap}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.meter{height:.4rem;background:var(--bar);border-radius:.2rem;margin-top:.2rem;min-width:5rem}
.meter>span{display:block;height:100%;border-radius:.2rem;background:var(--ok)}
.meter.bad>span{background:var(--bad)}
ul.alerts{list-style:none;margin:0;padding:0}
ul.alerts li{padding:.5rem .6rem;border-left:.25rem solid var(--bad);background:var(--badbg);border-radius:.3rem;margin-bottom:.5rem}
ul.alerts li.muted{border-left-color:var(--warn);background:var(--warnbg);color:var(--fg)}
.buttons{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.8rem}
button{font:inherit;padding:.45rem .9rem;border-radius:.4rem;border:1px solid var(--line);background:var(--bg);color:var(--fg);cursor:pointer}
button:disabled{opacity:.5;cursor:default}
#banner{display:none;padding:.6rem 1rem;background:var(--badbg);color:var(--bad);font-weight:600}
#banner.show{display:block}
code{font-size:.85em;overflow-wrap:anywhere}
footer{padding:0 1rem 1.5rem;text-align:center;color:var(--muted);font-size:.8rem}
footer a{color:inherit}
.noscript{padding:1rem}
dl.spaced{margin-top:.7rem}
</style>
</head>
<body>
<header>
  <h1>poolwatch</h1>
  <span id="overall" class="badge warn" data-state="loading">loading…</span>
  <span id="meta"></span>
  <span id="updated">waiting for the first update…</span>
</header>
<div id="banner" role="alert"></div>
<noscript><p class="noscript">This page needs JavaScript; the same data is at <a href="api/v1/status">api/v1/status</a>.</p></noscript>
<main>
  <section id="traffic">
    <h2>Traffic</h2>
    <div>Serving now</div>
    <div class="big" id="serving-pool" data-pool="">–</div>
    <div id="serving-since" class="muted"></div>
    <dl class="spaced">
      <dt>Expected primary</dt><dd id="active-pool">–</dd>
      <dt>State</dt><dd id="pool-state">–</dd>
    </dl>
  </section>
  <section id="firing">
    <h2>Firing alerts <span id="firing-count" class="badge">0</span></h2>
    <ul class="alerts" id="alerts"></ul>
    <div id="no-alerts" class="muted">None.</div>
  </section>
  <section id="maintenance" data-enabled="false">
    <h2>Maintenance</h2>
    <div class="big" id="maintenance-state">–</div>
    <div id="maintenance-until" class="muted"></div>
    <div class="buttons" id="maintenance-buttons" hidden>
      <button type="button" data-hours="1">On for 1 h</button>
      <button type="button" data-hours="4">On for 4 h</button>
      <button type="button" data-off="1">Off</button>
    </div>
    <div id="maintenance-result" class="muted"></div>
  </section>
  <section class="wide">
    <h2>Rules</h2>
    <div class="scroll"><table>
      <thead><tr><th>Rule</th><th>Alert</th><th>Value / threshold</th><th>Window</th><th>For</th><th>Decision</th></tr></thead>
      <tbody id="rules"></tbody>
    </table></div>
  </section>
  <section class="wide">
    <h2>Last notifications</h2>
    <div id="destinations" class="muted"></div>
    <div class="scroll"><table>
      <thead><tr><th>Time</th><th>Alert</th><th>Notifier</th><th>Result</th><th>Error</th></tr></thead>
      <tbody id="deliveries"></tbody>
    </table></div>
    <div id="no-deliveries" class="muted">No notification sent yet.</div>
  </section>
  <section id="follower">
    <h2>Log follower</h2>
    <dl>
      <dt>File</dt><dd><code id="follower-path">–</code></dd>
      <dt>Health</dt><dd id="follower-health">–</dd>
      <dt>Offset</dt><dd id="follower-offset">–</dd>
      <dt>Lag</dt><dd id="follower-lag">–</dd>
      <dt>Last rotation</dt><dd id="follower-rotation">–</dd>
      <dt>Lines</dt><dd id="follower-lines">–</dd>
      <dt>Last line</dt><dd id="follower-last">–</dd>
    </dl>
  </section>
</main>
<footer>Refreshes every 5 s · <a href="api/v1/status">api/v1/status</a> · <a href="api/v1/alerts">api/v1/alerts</a></footer>
<script>
"use strict";
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
    const meter = el("div", {"class": "meter" + (r.firing ? " bad" : "")}, el("span", {}));
    const ratio = r.threshold > 0 ? Math.min(1, r.value / (pct ? Math.max(r.threshold * 2, 1) : r.threshold)) : 0;
    meter.firstChild.style.width = (ratio * 100).toFixed(0) + "%";
    const value = pct ? num(r.value) + "% / " + num(r.threshold) + "%" : (r.value >= r.threshold ? "off primary" : "on primary");
    const win = r.window_size ? r.window_fill + " / " + r.window_size : "–";
    body.append(el("tr", {"class": "rule" + (r.firing ? " bad" : ""), "data-rule": r.name, "data-firing": r.firing},
      el("td", {}, r.name), el("td", {}, labels(r.labels) || "–"),
      el("td", {"class": "num"}, value, pct ? meter : null), el("td", {"class": "num"}, win),
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
    const cls = d.result === "sent" ? "ok" : d.result === "retrying" ? "warn" : "bad";
    const err = d.error + (d.http_status ? " (HTTP " + d.http_status + ")" : "");
    body.append(el("tr", {"class": "delivery", "data-result": d.result},
      el("td", {"class": "num"}, when(d.time)), el("td", {}, d.key + " " + d.status),
      el("td", {}, d.notifier), el("td", {"class": cls}, d.result + (d.attempt > 1 ? " (attempt " + d.attempt + ")" : "")),
      el("td", {}, d.error ? err : "")));
  }
  $("no-deliveries").hidden = n.recent.length > 0;
}

function renderFollower(s) {
  const f = s.follower;
  text("follower-path", f.path || "–");
  const h = $("follower-health");
  h.textContent = f.healthy ? "reading" : (f.problem || "file not open");
  h.className = f.healthy ? "ok" : "bad";
  text("follower-offset", bytes(f.offset) + " of " + bytes(f.size));
  const lag = $("follower-lag");
  lag.textContent = bytes(f.lag_bytes) + " unread";
  lag.className = f.lag_bytes > 1048576 ? "warn" : "";
  text("follower-rotation", f.last_rotation ? when(f.last_rotation) + " (" + f.rotations + " rotations, " + f.truncations + " truncations)" : "none since start");
  text("follower-lines", s.log.lines_parsed + " parsed, " + s.log.lines_malformed + " malformed");
  text("follower-last", when(s.log.last_record_time));
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
  renderTraffic(s); renderAlerts(s); renderMaintenance(s); renderRules(s); renderDeliveries(s); renderFollower(s);
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
</script>
</body>
</html>
)html";

HttpReply Json(const std::string& body) { return {200, "application/json", body}; }

// The text between `open` and the next `close` in the page.
std::string_view Between(std::string_view open, std::string_view close) {
  const size_t start = kPage.find(open) + open.size();
  return kPage.substr(start, kPage.find(close, start) - start);
}

}  // namespace

std::string StatusPagePolicy() {
  // Only the page's own script and style run (by hash, so nothing injected does), its fetches
  // go to poolwatch itself, no other site may frame it, and it submits no forms.
  static const std::string policy =
      std::string("default-src 'none'; script-src ")
          .append(CspHashSource(Between("<script>", "</script>")))
          .append("; style-src ")
          .append(CspHashSource(Between("<style>", "</style>")))
          .append(
              "; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'");
  return policy;
}

std::string_view StatusPageHtml() { return kPage; }

void RegisterStatusHandlers(HttpServer& server, std::function<StatusSnapshot()> snapshot) {
  auto source = std::make_shared<std::function<StatusSnapshot()>>(std::move(snapshot));
  server.Handle("GET", "/", [](const HttpRequest&) {
    return HttpReply{200, "text/html; charset=utf-8", std::string(kPage), StatusPagePolicy()};
  });
  server.Handle("GET", "/api/v1/status",
                [source](const HttpRequest&) { return Json(StatusJson((*source)())); });
  server.Handle("GET", "/api/v1/alerts",
                [source](const HttpRequest&) { return Json(AlertsJson((*source)())); });
}

}  // namespace poolwatch
