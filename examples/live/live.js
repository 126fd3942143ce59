// Lists a Strata store collection and keeps it live, from the gateway's
// GET /v1/watch/<collection>[/<prefix>] Server-Sent Events:
//   snapshot  one page of objects (part 0 starts a fresh snapshot)
//   ready     the snapshot is whole; id: its revision
//   changes   changes in revision order; id: the last revision covered
//   reset     the store could not resume: a fresh snapshot follows
//   refused   the watch is not allowed (or not well formed): it is over
// The browser resumes by itself with Last-Event-ID after a lost connection, so the page
// never sees a change twice and misses none.
'use strict';

const params = new URLSearchParams(location.search);
const collection = params.get('collection') || 'notes';
const prefix = params.get('prefix') || '';

const objects = new Map();  // key -> {revision, attributes}
let pending = null;         // a snapshot being received
let columns = [];

const $ = (id) => document.getElementById(id);

function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text || state;
}

function render(changedKeys) {
  const names = new Set();
  for (const object of objects.values()) Object.keys(object.attributes).forEach((n) => names.add(n));
  columns = [...names].sort();
  const head = $('head');
  while (head.children.length > 2) head.lastChild.remove();
  for (const name of columns) {
    const th = document.createElement('th');
    th.textContent = name;
    head.appendChild(th);
  }
  const body = document.createElement('tbody');
  body.id = 'objects';
  for (const key of [...objects.keys()].sort()) {
    const object = objects.get(key);
    const row = document.createElement('tr');
    row.dataset.key = key;
    if (changedKeys && changedKeys.has(key)) row.className = 'changed';
    const keyCell = document.createElement('td');
    keyCell.textContent = key;
    const revisionCell = document.createElement('td');
    revisionCell.className = 'revision';
    revisionCell.textContent = object.revision;
    row.append(keyCell, revisionCell);
    for (const name of columns) {
      const cell = document.createElement('td');
      cell.dataset.attr = name;
      if (name in object.attributes) {
        const value = object.attributes[name];
        cell.textContent = typeof value === 'string' ? value : JSON.stringify(value);
      }
      row.appendChild(cell);
    }
    body.appendChild(row);
  }
  $('objects').replaceWith(body);
}

function watch() {
  const path = '/v1/watch/' + encodeURIComponent(collection) + (prefix ? '/' + encodeURIComponent(prefix) : '');
  const source = new EventSource(path);
  let opened = false;
  source.onopen = () => { opened = true; };
  source.addEventListener('snapshot', (e) => {
    const page = JSON.parse(e.data);
    if (page.part === 0 || pending === null) pending = new Map();
    for (const o of page.objects) pending.set(o.key, {revision: o.revision, attributes: o.attributes});
  });
  source.addEventListener('ready', (e) => {
    const ready = JSON.parse(e.data);
    objects.clear();
    for (const [key, object] of pending || []) objects.set(key, object);
    pending = null;
    $('revision').textContent = ready.revision;
    setStatus('live');
    render();
  });
  source.addEventListener('changes', (e) => {
    const batch = JSON.parse(e.data);
    const changed = new Set();
    for (const c of batch.changes) {
      if (c.op === 'delete') objects.delete(c.key);
      else objects.set(c.key, {revision: c.revision, attributes: c.attributes});
      changed.add(c.key);
    }
    $('revision').textContent = batch.to;
    setStatus('live');
    render(changed);
  });
  source.addEventListener('reset', () => setStatus('reset', 'resetting: fresh snapshot'));
  source.addEventListener('refused', (e) => {
    source.close();
    setStatus('refused', 'refused: ' + JSON.parse(e.data).message);
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      // Not an event stream at all (401 without a session, 403 by the gateway's policy).
      if (!opened) $('login').classList.add('shown');
      setStatus('signed-out', opened ? 'closed' : 'sign in to watch');
    } else {
      setStatus('reconnecting');
    }
  };
}

// A bearer token opens a session cookie (HttpOnly: this script never sees it), which
// the stream then carries. The token comes from the form, or from the page's #token=
// fragment, which browsers never send to servers; it is dropped from the address bar.
async function signIn(token) {
  const answer = await fetch('/v1/session', {method: 'POST', headers: {Authorization: 'Bearer ' + token}, body: ''});
  if (!answer.ok) {
    setStatus('signed-out', 'the token was refused');
    return;
  }
  $('login').classList.remove('shown');
  setStatus('connecting');
  watch();
}

$('collection').textContent = collection + (prefix ? ' / ' + prefix + '…' : '');
$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  signIn($('token').value);
  $('token').value = '';
});
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.has('token')) {
  const token = fragment.get('token');
  history.replaceState(null, '', location.pathname + location.search);
  signIn(token);
} else {
  watch();
}
