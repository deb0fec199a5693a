// Switchboard live console: plain ES module, no build step. socket.io-client's browser bundle comes
// from the gateway itself (socket.io's serveClient). Everything received is shown with textContent,
// never as HTML. Tokens are kept in this tab's sessionStorage only.
import { io } from '/socket.io/socket.io.esm.min.js';

const $ = (id) => document.getElementById(id);
const MAX_EVENTS = 500;
const ACK_TIMEOUT_MS = 5000;

const stored = {
  get(key) {
    try {
      return sessionStorage.getItem(`sb.console.${key}`) ?? '';
    } catch {
      return '';
    }
  },
  set(key, value) {
    try {
      if (value) sessionStorage.setItem(`sb.console.${key}`, value);
      else sessionStorage.removeItem(`sb.console.${key}`);
    } catch {
      // storage disabled: the fields still work for this page view
    }
  },
};

const state = {
  catalog: { events: [], namespaces: {} },
  socket: null,
  /** room -> { join, leave, payload } of the rooms joined on the current connection */
  rooms: new Map(),
  received: 0,
};

// ---- helpers ------------------------------------------------------------------------------------

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function pretty(value) {
  return JSON.stringify(value, null, 2) ?? String(value);
}

/** Shows a result line: ok (green) or error (red), with optional issue lines under it. */
function showResult(target, kind, text, issues = []) {
  target.className = `result ${kind}`;
  target.replaceChildren(el('span', { text }));
  if (issues.length > 0) {
    target.append(
      el(
        'ul',
        { class: 'issues' },
        issues.map((i) =>
          el('li', { text: `${(i.path ?? []).join('.') || '(root)'}: ${i.message}` }),
        ),
      ),
    );
  }
}

function describeError(status, body) {
  const error = body && typeof body === 'object' ? body.error : undefined;
  if (!error) return { text: `${status} (no error body)`, issues: [] };
  return {
    text: `${status} ${error.code}: ${error.message}`,
    issues: Array.isArray(error.issues) ? error.issues : [],
  };
}

async function callApi(path, token, init = {}) {
  const headers = { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { ...init, headers });
  const body = await res.json().catch(() => undefined);
  return { status: res.status, body };
}

function persistField(id, key) {
  const input = $(id);
  input.value = stored.get(key);
  input.addEventListener('input', () => stored.set(key, input.value.trim()));
}

// ---- catalog and pickers ------------------------------------------------------------------------

async function loadCatalog() {
  const res = await fetch('/console/catalog.json');
  state.catalog = await res.json();
  const nsSelect = $('namespace');
  nsSelect.replaceChildren(
    ...Object.keys(state.catalog.namespaces).map((ns) => el('option', { value: ns, text: ns })),
  );
  nsSelect.value = stored.get('namespace') || nsSelect.value;
  const eventSelect = $('event');
  const byNs = new Map();
  for (const event of state.catalog.events) {
    if (!byNs.has(event.namespace)) byNs.set(event.namespace, []);
    byNs.get(event.namespace).push(event);
  }
  eventSelect.replaceChildren(
    ...[...byNs].map(([ns, events]) =>
      el(
        'optgroup',
        { label: ns },
        events.map((e) => el('option', { value: e.name, text: e.name })),
      ),
    ),
  );
  renderRoomKinds();
  selectEvent(stored.get('event') || state.catalog.events[0]?.name, true);
}

function renderRoomKinds() {
  const kinds = state.catalog.namespaces[$('namespace').value] ?? {};
  $('room-kind').replaceChildren(
    ...Object.entries(kinds).map(([name, kind]) =>
      el('option', { value: name, text: kind.param ? `${name}:{${kind.param}}` : name }),
    ),
  );
  updateRoomId();
}

function updateRoomId() {
  const kind = currentKind();
  $('room-id').disabled = !kind?.param;
  $('room-id').placeholder = kind?.param ? `${kind.param}, e.g. 42` : 'no id';
}

function currentKind() {
  return (state.catalog.namespaces[$('namespace').value] ?? {})[$('room-kind').value];
}

function eventEntry(name) {
  return state.catalog.events.find((e) => e.name === name);
}

function selectEvent(name, keepFields = false) {
  const entry = eventEntry(name);
  if (!entry) return;
  $('event').value = name;
  stored.set('event', name);
  const delivery =
    entry.delivery.kind === 'immediate'
      ? 'immediate'
      : `throttle ${entry.delivery.windowMs} ms, ${entry.delivery.mode}`;
  $('event-info').textContent =
    `${entry.namespace} → ${entry.room} · ${delivery} · ${entry.description}`;
  if (!keepFields || !$('data').value) fillExample(entry);
}

function fillExample(entry) {
  $('data').value = entry.example ? pretty(entry.example.data) : '{}';
  $('target').value = entry.example?.target ? JSON.stringify(entry.example.target) : '';
}

// ---- socket -------------------------------------------------------------------------------------

function setStatus(state_, text) {
  const status = $('status');
  status.dataset.state = state_;
  status.textContent = text;
}

function connect() {
  disconnect();
  const ns = $('namespace').value;
  const token = $('jwt').value.trim();
  stored.set('namespace', ns);
  setStatus('connecting', `connecting to ${ns}…`);
  const socket = io(ns, {
    transports: ['websocket'],
    auth: token ? { token } : {},
    reconnectionAttempts: 10,
  });
  state.socket = socket;
  socket.on('connect', () => {
    setStatus('connected', `connected to ${ns} (${socket.id})`);
    $('join').disabled = false;
    $('disconnect').disabled = false;
    // After a reconnect the gateway knows no rooms of this socket: join them again.
    for (const [room, entry] of state.rooms) void joinRoom(entry, room);
  });
  socket.on('connect_error', (err) => {
    const code = err?.data?.code ? ` (${err.data.code})` : '';
    setStatus('error', `connect error: ${err.message}${code}`);
  });
  socket.on('disconnect', (reason) => {
    setStatus('disconnected', `disconnected: ${reason}`);
    $('join').disabled = true;
  });
  socket.onAny((event, ...args) => addEvent(ns, event, args));
}

function disconnect() {
  if (state.socket) {
    state.socket.offAny();
    state.socket.disconnect();
    state.socket = null;
  }
  state.rooms.clear();
  renderRooms();
  $('join').disabled = true;
  $('disconnect').disabled = true;
  setStatus('disconnected', 'disconnected');
}

async function ack(action, payload) {
  if (!state.socket?.connected)
    return { ok: false, error: { code: 'unavailable', message: 'not connected' } };
  try {
    return await state.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(action, payload);
  } catch {
    return { ok: false, error: { code: 'timeout', message: `no ack within ${ACK_TIMEOUT_MS} ms` } };
  }
}

async function joinRoom(entry, label) {
  const res = await ack(entry.join, entry.payload);
  if (res?.ok) {
    const room = res.data?.room ?? label;
    state.rooms.set(room, entry);
    renderRooms();
    showResult(
      $('join-result'),
      'ok',
      `${entry.join} ${JSON.stringify(entry.payload)} → joined ${room}`,
    );
  } else {
    const error = res?.error ?? { code: 'internal', message: 'bad ack' };
    showResult(
      $('join-result'),
      'error',
      `${entry.join} ${JSON.stringify(entry.payload)} → ${error.code}: ${error.message}`,
      error.issues ?? [],
    );
  }
}

async function join() {
  const kind = currentKind();
  if (!kind) return;
  const id = $('room-id').value.trim();
  if (kind.param && !id) return showResult($('join-result'), 'error', `enter the ${kind.param}`);
  const payload = kind.param ? { [kind.param]: id } : {};
  await joinRoom(
    { join: kind.join, leave: kind.leave, payload },
    kind.param ? `${$('room-kind').value}:${id}` : $('room-kind').value,
  );
}

async function leave(room) {
  const entry = state.rooms.get(room);
  if (!entry) return;
  const res = await ack(entry.leave, entry.payload);
  if (res?.ok) {
    state.rooms.delete(room);
    renderRooms();
    showResult($('join-result'), 'ok', `left ${room}`);
  } else {
    showResult(
      $('join-result'),
      'error',
      `${entry.leave} → ${res?.error?.code}: ${res?.error?.message}`,
    );
  }
}

function renderRooms() {
  $('rooms').replaceChildren(
    ...[...state.rooms.keys()].map((room) => {
      const button = el('button', {
        type: 'button',
        class: 'secondary',
        title: `leave ${room}`,
        text: '×',
      });
      button.addEventListener('click', () => void leave(room));
      return el('li', { dataset: { room } }, [el('span', { text: room }), button]);
    }),
  );
}

function addEvent(ns, event, args) {
  const [data, meta] = args;
  const hasMeta = meta !== null && typeof meta === 'object' && typeof meta.id === 'string';
  const time = new Date(hasMeta && typeof meta.ts === 'number' ? meta.ts : Date.now())
    .toISOString()
    .slice(11, 23);
  const head = el('div', { class: 'head' }, [
    el('span', { class: 'time', text: time }),
    el('span', { class: 'name', text: event }),
    el('span', { class: 'where', text: hasMeta ? `${meta.ns ?? ns} ${meta.room}` : ns }),
  ]);
  if (hasMeta && meta.recovered) head.append(el('span', { class: 'recovered', text: 'recovered' }));
  const item = el(
    'li',
    { dataset: { event, ...(hasMeta ? { id: meta.id, room: String(meta.room) } : {}) } },
    [head, el('pre', { class: 'data', text: pretty(data) })],
  );
  if (args.length > 1) item.append(el('pre', { class: 'meta', text: `meta ${pretty(meta)}` }));
  const list = $('events');
  list.prepend(item);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  state.received += 1;
  $('event-count').textContent = String(state.received);
}

// ---- publish ------------------------------------------------------------------------------------

function parseField(id, label, optional) {
  const text = $(id).value.trim();
  if (!text && optional) return { value: undefined };
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: `${label} is not valid JSON: ${err.message}` };
  }
}

async function publish() {
  const result = $('publish-result');
  const data = parseField('data', 'data', false);
  const target = parseField('target', 'target', true);
  const local = data.error ?? target.error;
  if (local) return showResult(result, 'error', local);
  const body = { event: $('event').value, data: data.value };
  if (target.value !== undefined) body.target = target.value;
  showResult(result, '', 'publishing…');
  try {
    const res = await callApi('/api/events', $('publish-token').value.trim(), {
      method: 'POST',
      body: JSON.stringify(body),
    });
    if (res.status === 202)
      return showResult(result, 'ok', `202 accepted: ${body.event} id ${res.body?.id}`);
    const error = describeError(res.status, res.body);
    showResult(result, 'error', error.text, error.issues);
  } catch (err) {
    showResult(result, 'error', `request failed: ${err.message}`);
  }
}

// ---- throttle windows ----------------------------------------------------------------------------

async function listWindows() {
  const result = $('throttle-result');
  const tbody = $('throttle').tBodies[0];
  try {
    const res = await callApi('/admin/throttle?limit=100', $('admin-token').value.trim());
    if (res.status !== 200) {
      const error = describeError(res.status, res.body);
      tbody.replaceChildren();
      return showResult(result, 'error', error.text, error.issues);
    }
    const items = res.body.items ?? [];
    tbody.replaceChildren(
      ...items.map((w) => {
        const flush = el('button', { type: 'button', class: 'flush', text: 'Flush' });
        flush.addEventListener('click', () => void flushWindows(w.key));
        return el('tr', { dataset: { key: w.key } }, [
          el('td', { class: 'key', text: w.key }),
          el('td', { text: String(w.count) }),
          el('td', { text: `${w.mode} ${w.windowMs} ms` }),
          el('td', { text: `${(w.ageMs / 1000).toFixed(1)} s` }),
          el('td', {}, [flush]),
        ]);
      }),
    );
    showResult(
      result,
      'ok',
      `${items.length} open window${items.length === 1 ? '' : 's'}${res.body.nextCursor ? ' (more not shown)' : ''}`,
    );
  } catch (err) {
    showResult(result, 'error', `request failed: ${err.message}`);
  }
}

async function flushWindows(key) {
  const result = $('throttle-result');
  try {
    const res = await callApi('/admin/throttle/flush', $('admin-token').value.trim(), {
      method: 'POST',
      body: JSON.stringify({ key }),
    });
    if (res.status !== 200) {
      const error = describeError(res.status, res.body);
      return showResult(result, 'error', error.text, error.issues);
    }
    await listWindows();
    showResult(result, 'ok', `flushed ${key}: ${res.body.events} event(s) handed to the workers`);
  } catch (err) {
    showResult(result, 'error', `request failed: ${err.message}`);
  }
}

// ---- wiring -------------------------------------------------------------------------------------

persistField('jwt', 'jwt');
persistField('publish-token', 'publish');
persistField('admin-token', 'admin');
$('connect').addEventListener('click', connect);
$('disconnect').addEventListener('click', disconnect);
$('namespace').addEventListener('change', () => {
  stored.set('namespace', $('namespace').value);
  renderRoomKinds();
  if (state.socket) disconnect();
  // Offer an event of the chosen namespace in the publish form.
  const first = state.catalog.events.find((e) => e.namespace === $('namespace').value);
  if (first && eventEntry($('event').value)?.namespace !== first.namespace) selectEvent(first.name);
});
$('room-kind').addEventListener('change', updateRoomId);
$('join').addEventListener('click', () => void join());
$('room-id').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !$('join').disabled) void join();
});
$('event').addEventListener('change', () => selectEvent($('event').value));
$('example').addEventListener('click', () => {
  const entry = eventEntry($('event').value);
  if (entry) fillExample(entry);
});
$('publish').addEventListener('click', () => void publish());
$('throttle-refresh').addEventListener('click', () => void listWindows());
$('clear').addEventListener('click', () => {
  $('events').replaceChildren();
  state.received = 0;
  $('event-count').textContent = '0';
});

loadCatalog().then(
  () => document.body.classList.add('ready'),
  (err) =>
    showResult(
      $('publish-result'),
      'error',
      `could not load /console/catalog.json: ${err.message}`,
    ),
);
