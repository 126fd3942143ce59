#include <strata/admin/dashboard.h>

namespace strata::admin {

const std::string& dashboardPage() {
  // Self-contained: the admin endpoint serves it with a policy that allows nothing from
  // elsewhere. It reads /api/stats once a second; a token given as #token= (never sent
  // to a server) goes with each read and stays in this tab's sessionStorage.
  static const std::string page = R"PAGE(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Strata · dashboard</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 0.3rem; }
  .meta { color: #888; font-size: 0.9rem; }
  #status { padding: 0.1rem 0.5rem; border-radius: 0.5rem; background: #2a73; }
  #status[data-state="down"] { background: #c333; }
  section { margin-top: 1.2rem; }
  h2 { font-size: 1rem; margin: 0 0 0.4rem; }
  table { border-collapse: collapse; min-width: 40rem; }
  th, td { text-align: right; padding: 0.25rem 0.7rem; border-bottom: 1px solid #8884; font-variant-numeric: tabular-nums; }
  th:first-child, td:first-child { text-align: left; }
  .pills span { display: inline-block; margin-right: 0.8rem; }
</style>
</head>
<body>
<h1><span id="role">strata</span> <span id="name"></span></h1>
<div class="meta"><span id="status" data-state="up">connecting</span>
  up <span id="uptime">–</span> · version <span id="version">–</span> · <span id="requests">0</span> requests</div>
<section id="pool" hidden><h2>Pool</h2>
<table><thead><tr><th>broker</th><th>admin</th><th>state</th><th>up</th><th>workers</th><th>held</th><th>req/s</th></tr></thead>
<tbody id="brokers"></tbody></table></section>
<section><h2>Services</h2>
<table><thead><tr><th>service</th><th>workers</th><th>queued</th><th>in flight</th><th>req/s</th><th>errors/s</th><th>p99 ms (bucket)</th></tr></thead>
<tbody id="services"></tbody></table></section>
<section><h2>Workers by layer</h2><div class="pills" id="layers"></div></section>
<section><h2>Connected peers by layer</h2><div class="pills" id="peers"></div></section>
<section><h2>Errors by code</h2><div class="pills" id="errors"></div></section>
<section><h2>Events</h2><div class="pills" id="events"></div></section>
<script>
'use strict';
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.has('token')) {
  sessionStorage.setItem('strata-admin-token', fragment.get('token'));
  history.replaceState(null, '', location.pathname);
}
const token = sessionStorage.getItem('strata-admin-token');
const $ = (id) => document.getElementById(id);
let last = null;
function pills(id, entries) {
  const box = $(id);
  box.replaceChildren(...entries.map(([k, v]) => {
    const s = document.createElement('span');
    s.dataset.key = k;
    s.textContent = k + ': ' + v;
    return s;
  }));
}
function cell(row, col, text) {
  const td = document.createElement('td');
  td.dataset.col = col;
  td.textContent = text;
  row.appendChild(td);
}
function draw(stats) {
  $('role').textContent = stats.role;
  $('name').textContent = stats.name;
  $('version').textContent = stats.version;
  $('uptime').textContent = Math.round(stats.uptime_s) + ' s';
  $('requests').textContent = stats.requests;
  const rows = [];
  for (const s of stats.services) {
    const before = last && last.services.find((o) => o.name === s.name);
    const dt = last ? (stats.time_ms - last.time_ms) / 1000 : 0;
    const rate = before && dt > 0 ? (s.requests - before.requests) / dt : 0;
    const errors = before && dt > 0 ? (s.errors - before.errors) / dt : 0;
    // p99 of the requests answered since the last read, from the histogram's buckets.
    let p99 = s.p99_ms;
    if (before && s.duration_counts && before.duration_counts) {
      const delta = s.duration_counts.map((c, i) => c - (before.duration_counts[i] || 0));
      const total = delta.reduce((a, b) => a + b, 0);
      if (total > 0) {
        let seen = 0;
        const bounds = stats.duration_bounds_ms;
        for (let i = 0; i < delta.length; ++i) {
          seen += delta[i];
          if (seen >= 0.99 * total) { p99 = bounds[Math.min(i, bounds.length - 1)]; break; }
        }
      }
    }
    const row = document.createElement('tr');
    row.dataset.service = s.name;
    cell(row, 'name', s.name);
    cell(row, 'workers', s.workers);
    cell(row, 'queued', s.queued);
    cell(row, 'in_flight', s.in_flight);
    cell(row, 'rate', rate.toFixed(0));
    cell(row, 'errors', errors.toFixed(1));
    cell(row, 'p99', p99.toFixed(1));
    rows.push(row);
  }
  $('services').replaceChildren(...rows);
  pills('layers', Object.entries(stats.workers_by_layer));
  pills('peers', Object.entries(stats.peers_by_layer || {}));
  pills('errors', Object.entries(stats.errors));
  pills('events', Object.entries(stats.events));
  last = stats;
}
// The pool, from /api/pool: this broker first, then strata.admin.pool's, each read by
// this broker's endpoint (so the page needs no other origin).
const lastOf = new Map();
function drawPool(pool) {
  const rows = [];
  for (const b of pool.brokers) {
    const key = b.url || 'this';
    const row = document.createElement('tr');
    row.dataset.broker = key;
    if (!b.reachable) {
      cell(row, 'name', '–');
      cell(row, 'url', b.url);
      cell(row, 'state', 'unreachable');
      cell(row, 'error', b.error);
      row.lastChild.colSpan = 4;
      row.lastChild.style.textAlign = 'left';
      rows.push(row);
      lastOf.delete(key);
      continue;
    }
    const s = b.stats;
    const before = lastOf.get(key);
    const dt = before ? (s.time_ms - before.time_ms) / 1000 : 0;
    const rate = before && dt > 0 ? (s.requests - before.requests) / dt : 0;
    cell(row, 'name', s.name);
    cell(row, 'url', b.url || '(this one)');
    cell(row, 'state', 'up');
    cell(row, 'uptime', Math.round(s.uptime_s) + ' s');
    cell(row, 'workers', Object.values(s.workers_by_layer).reduce((a, n) => a + n, 0));
    cell(row, 'held', s.held);
    cell(row, 'rate', rate.toFixed(0));
    rows.push(row);
    if (!before || s.time_ms > before.time_ms) lastOf.set(key, s);
  }
  $('brokers').replaceChildren(...rows);
  $('pool').hidden = pool.brokers.length < 2;
}
async function refreshPool() {
  try {
    const answer = await fetch('api/pool', {headers: token ? {Authorization: 'Bearer ' + token} : {}});
    if (answer.ok) drawPool(await answer.json());
  } catch (e) {
    // The broker itself is unreachable: refresh() says so.
  }
}
async function refresh() {
  try {
    const answer = await fetch('api/stats', {headers: token ? {Authorization: 'Bearer ' + token} : {}});
    if (!answer.ok) throw new Error(answer.status === 401 ? 'needs #token=' : 'HTTP ' + answer.status);
    draw(await answer.json());
    $('status').dataset.state = 'up';
    $('status').textContent = 'live';
  } catch (e) {
    $('status').dataset.state = 'down';
    $('status').textContent = 'unreachable: ' + e.message;
  }
}
refresh();
refreshPool();
setInterval(refresh, 1000);
setInterval(refreshPool, 1000);
</script>
</body>
</html>
)PAGE";
  return page;
}

}  // namespace strata::admin
