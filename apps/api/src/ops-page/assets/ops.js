/* global document, CSS */
// The operators' page. It uses only the api's public endpoints: POST /v1/auth/login, GET /v1/ops/health,
// GET /v1/ops/dead-letters[/{name}] and POST /v1/ops/dead-letters/{name}/replay. Everything it shows is
// set as text, never parsed as HTML: reasons and payloads of dead letters come from whoever sent them.

const REFRESH_MS = 5_000;
const INSPECT_LIMIT = 100;
const PAYLOAD_CHARS = 10_000;
const SESSION_KEY = 'retail-ops-session';
const STATUS_ORDER = ['COMPLETED', 'PENDING', 'REJECTED', 'CANCELLED'];
const TOP_UP_ORDER = ['SUCCEEDED', 'PENDING', 'FAILED'];

const $ = (id) => document.getElementById(id);

const state = {
  /** { token, email, expiresAt } while signed in; kept in sessionStorage (this tab only), never in a cookie. */
  session: undefined,
  timer: undefined,
  refreshing: undefined,
  again: false,
  /** The dead-letter queue whose messages are listed, and what its row said when they were loaded. */
  inspecting: undefined,
  inspectedRow: undefined,
  queues: [],
};

/** The session is over (401, 403 or expiry): the page is back at the sign-in form, saying why. */
class SessionEnded extends Error {}

class ApiError extends Error {}

// --- session ---------------------------------------------------------------------------------

function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (saved && typeof saved.token === 'string' && typeof saved.expiresAt === 'number' && saved.expiresAt > Date.now()) return saved;
  } catch {
    // A value this page did not write: start signed out.
  }
  sessionStorage.removeItem(SESSION_KEY);
  return undefined;
}

function endSession(message) {
  state.session = undefined;
  state.inspecting = undefined;
  clearTimeout(state.timer);
  sessionStorage.removeItem(SESSION_KEY);
  $('dashboard').hidden = true;
  $('session').hidden = true;
  $('inspect').hidden = true;
  $('login').hidden = false;
  showLoginError(message);
  $(message ? 'password' : 'email').focus();
}

function showLoginError(message) {
  const box = $('login-error');
  box.textContent = message ?? '';
  box.hidden = !message;
}

// --- HTTP ------------------------------------------------------------------------------------

/** One call to the api; a network failure becomes an ApiError that says what to check. */
async function call(path, { method = 'GET', body, token = state.session?.token } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  } catch (error) {
    throw new ApiError(`The api cannot be reached (${error.message}); check that it is running. The page keeps trying.`);
  }
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  return { status: response.status, data, retryAfter: response.headers.get('retry-after') };
}

function messageOf(reply) {
  return typeof reply.data?.message === 'string' ? reply.data.message : `the api answered ${reply.status}`;
}

/** The body of an operator call; 401 and 403 end the session, other failures throw an ApiError. */
async function opsCall(path, options, ok = [200]) {
  const reply = await call(path, options);
  if (ok.includes(reply.status)) return reply.data;
  if (reply.status === 401) {
    endSession(`Your session has ended (${messageOf(reply)}). Sign in again.`);
    throw new SessionEnded();
  }
  if (reply.status === 403) {
    endSession(`This page needs an account with the admin or ops role (${messageOf(reply)}).`);
    throw new SessionEnded();
  }
  if (reply.status === 429) throw new ApiError(`Too many requests; the api asks to wait ${reply.retryAfter ?? 'a few'} s. The page tries again by itself.`);
  throw new ApiError(`${path}: ${messageOf(reply)}`);
}

// --- rendering helpers -----------------------------------------------------------------------

/** An element with attributes (`text` sets its text, `class` its class) and children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.filter((child) => child !== undefined));
  return node;
}

/** Replaces a table's rows, keeping keyboard focus on the control that had it (the page refreshes under the user). */
function fillTable(table, rows, emptyText) {
  const focused = document.activeElement?.dataset?.focusKey;
  const body = table.tBodies[0];
  const columns = table.tHead.rows[0].cells.length;
  body.replaceChildren(...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: columns, class: 'empty', text: emptyText }))]));
  if (focused) body.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
}

function timeCell(iso) {
  if (!iso) return el('td', { text: '—' });
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return el('td', { text: iso });
  return el('td', {}, el('time', { datetime: iso, title: iso, text: `${at.toLocaleString()} (${ago(at)})` }));
}

function ago(at) {
  const seconds = Math.round((Date.now() - at.getTime()) / 1000);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (Math.abs(seconds) < 60) return format.format(-seconds, 'second');
  if (Math.abs(seconds) < 3_600) return format.format(-Math.round(seconds / 60), 'minute');
  if (Math.abs(seconds) < 86_400) return format.format(-Math.round(seconds / 3_600), 'hour');
  return format.format(-Math.round(seconds / 86_400), 'day');
}

function payloadText(payload) {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload, null, 2);
  return text.length > PAYLOAD_CHARS ? `${text.slice(0, PAYLOAD_CHARS)}\n… (${text.length - PAYLOAD_CHARS} more characters)` : text;
}

function notify(message, kind = 'info') {
  const box = $('notice');
  box.textContent = message;
  box.className = kind === 'error' ? 'notice error' : 'notice';
  box.hidden = !message;
}

// --- health ----------------------------------------------------------------------------------

/** What is wrong with an app, from its readiness body (Terminus: `error` names each failing indicator). */
function problemsOf(details) {
  if (!details || typeof details !== 'object') return [];
  const problems = [];
  if (details.error && typeof details.error === 'object') {
    for (const [indicator, result] of Object.entries(details.error)) {
      problems.push(`${indicator}: ${result?.message ?? result?.reason ?? result?.status ?? 'down'}`);
    }
  }
  if (problems.length === 0 && typeof details.message === 'string') problems.push(details.message);
  return problems;
}

function renderHealth(health) {
  const overall = $('overall');
  overall.textContent = `System ${health.status}`;
  overall.className = `badge ${health.status}`;

  const apps = Object.entries(health.services ?? {}).map(([name, service]) => {
    const up = service?.status === 'up';
    const problems = problemsOf(service?.details);
    const checked = Object.keys(service?.details?.info ?? {});
    const details = up
      ? el('td', { class: 'muted', text: checked.length > 0 ? `ready: ${checked.join(', ')}` : 'ready' })
      : el('td', {}, el('ul', { class: 'problems' }, ...(problems.length > 0 ? problems : ['not ready']).map((p) => el('li', { text: p }))));
    return el(
      'tr',
      { 'data-app': name },
      el('th', { scope: 'row', text: name }),
      el('td', {}, el('span', { class: `badge ${up ? 'up' : 'down'}`, 'data-status': up ? 'up' : 'down', text: up ? 'up' : 'down' })),
      details,
    );
  });
  fillTable($('apps'), apps, 'No app reported.');

  const consumers = Array.isArray(health.consumers) ? health.consumers : [];
  fillTable(
    $('lag'),
    consumers.map((c) =>
      el(
        'tr',
        { 'data-group': c.group, 'data-topic': c.topic },
        el('td', { class: 'mono', text: c.group }),
        el('td', { class: 'mono', text: c.partition === undefined ? c.topic : `${c.topic} [${c.partition}]` }),
        typeof c.lag === 'number'
          ? el('td', { class: 'num lag', text: c.lag.toLocaleString() })
          : el('td', { class: 'num lag unknown', title: c.error, text: c.error ? `unknown: ${c.error}` : 'unknown' }),
      ),
    ),
    Array.isArray(health.consumers) ? 'No Kafka consumer group is reported.' : 'This api does not report consumer lag.',
  );

  const purchases = health.purchases && typeof health.purchases === 'object' ? health.purchases : undefined;
  $('purchases-card').hidden = !purchases;
  if (purchases) {
    const rank = (status) => (STATUS_ORDER.includes(status) ? STATUS_ORDER.indexOf(status) : STATUS_ORDER.length);
    const cart = purchases.cart && typeof purchases.cart === 'object' ? purchases.cart : {};
    const statuses = Object.keys(purchases)
      .filter((key) => key !== 'cart')
      .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    fillTable(
      $('purchases'),
      statuses.map((status) =>
        el(
          'tr',
          { 'data-purchase-status': status },
          el('th', { scope: 'row', text: status }),
          el('td', { class: 'num all', text: Number(purchases[status]).toLocaleString() }),
          el('td', { class: 'num cart', text: Number(cart[status] ?? 0).toLocaleString() }),
        ),
      ),
      'No purchases yet.',
    );
  }

  const topUps = health.topUps && typeof health.topUps === 'object' ? health.topUps : undefined;
  $('top-ups-card').hidden = !topUps;
  if (topUps) {
    fillTable(
      $('top-ups'),
      TOP_UP_ORDER.filter((status) => status in topUps).map((status) =>
        el(
          'tr',
          { 'data-top-up-status': status },
          el('th', { scope: 'row', text: status }),
          el('td', { class: 'num', text: Number(topUps[status]).toLocaleString() }),
        ),
      ),
      'No top-ups yet.',
    );
  }
}

// --- dead letters ----------------------------------------------------------------------------

function renderQueues(queues) {
  state.queues = queues;
  fillTable(
    $('dead-letters'),
    queues.map((q) => {
      const inspect = el('button', {
        type: 'button',
        class: 'secondary',
        'data-focus-key': `inspect:${q.name}`,
        'aria-label': `Inspect ${q.name}`,
        text: 'Inspect',
      });
      inspect.addEventListener('click', () => void openInspect(q.name));
      const replay = el('button', {
        type: 'button',
        'data-focus-key': `replay-all:${q.name}`,
        'aria-label': `Replay all messages of ${q.name}`,
        disabled: q.count === 0,
        text: 'Replay all',
      });
      replay.addEventListener('click', () => void replayMessages(q.name, undefined, replay));
      return el(
        'tr',
        { 'data-queue': q.name, class: q.count !== 0 ? 'attention' : undefined },
        el('th', { scope: 'row', class: 'mono', text: q.name }),
        el('td', { class: 'mono', text: q.source }),
        el('td', { text: q.transport }),
        typeof q.count === 'number'
          ? el('td', { class: 'num count', text: String(q.count) })
          : el('td', { class: 'num count unknown', title: q.error, text: q.error ? `unknown: ${q.error}` : 'unknown' }),
        timeCell(q.oldestAt),
        el('td', {}, el('div', { class: 'actions' }, inspect, replay)),
      );
    }),
    'No dead-letter queue is reported.',
  );
  // The open list follows its queue: reloaded when the queue changed, closed when it is gone.
  if (state.inspecting) {
    const row = queues.find((q) => q.name === state.inspecting);
    if (!row) closeInspect();
    else if (state.inspectedRow && (row.count !== state.inspectedRow.count || row.oldestAt !== state.inspectedRow.oldestAt)) void loadMessages();
  }
}

async function openInspect(name) {
  state.inspecting = name;
  state.inspectedRow = undefined;
  $('inspect-title').textContent = `Messages in ${name}`;
  $('inspect').hidden = false;
  fillTable($('messages'), [], 'Loading…');
  await loadMessages();
  $('inspect').scrollIntoView({ block: 'nearest' });
  $('inspect-title').setAttribute('tabindex', '-1');
  $('inspect-title').focus();
}

function closeInspect() {
  state.inspecting = undefined;
  state.inspectedRow = undefined;
  $('inspect').hidden = true;
}

async function loadMessages() {
  const name = state.inspecting;
  if (!name) return;
  const row = state.queues.find((q) => q.name === name);
  let messages;
  try {
    const data = await opsCall(`/v1/ops/dead-letters/${encodeURIComponent(name)}?limit=${INSPECT_LIMIT}`);
    messages = Array.isArray(data?.messages) ? data.messages : [];
  } catch (error) {
    if (error instanceof SessionEnded) return;
    if (state.inspecting === name) fillTable($('messages'), [], error.message);
    return;
  }
  if (state.inspecting !== name) return;
  state.inspectedRow = row && { count: row.count, oldestAt: row.oldestAt };
  const total = row?.count ?? messages.length;
  $('inspect-summary').textContent =
    messages.length === 0
      ? 'No messages.'
      : `${messages.length === total ? `All ${total}` : `The oldest ${messages.length} of ${total}`} message${total === 1 ? '' : 's'}, oldest first.`;
  fillTable(
    $('messages'),
    messages.map((m) => {
      const replay = el('button', { type: 'button', 'data-focus-key': `replay:${m.id}`, 'aria-label': `Replay message ${m.id}`, text: 'Replay' });
      replay.addEventListener('click', () => void replayMessages(name, [m.id], replay));
      return el(
        'tr',
        { 'data-message-id': m.id },
        el('td', { class: 'mono id', text: m.id }),
        el('td', { class: 'reason', text: m.reason ?? '' }),
        timeCell(m.deadLetteredAt),
        el('td', { class: 'mono', text: m.source ?? '' }),
        el('td', {}, el('pre', { class: 'payload', text: payloadText(m.payload) })),
        el('td', {}, replay),
      );
    }),
    'This queue is empty.',
  );
}

/** Replays the messages `ids` of queue `name` (all of them without ids). */
async function replayMessages(name, ids, button) {
  button.disabled = true;
  try {
    const data = await opsCall(`/v1/ops/dead-letters/${encodeURIComponent(name)}/replay`, { method: 'POST', body: ids ? { ids } : {} }, [200, 202]);
    const n = Number(data?.replayed ?? 0);
    const skipped = Array.isArray(data?.skipped) && data.skipped.length > 0 ? ` ${data.skipped.length} were not (replayed already, or no longer there).` : '';
    notify(`Replayed ${n} message${n === 1 ? '' : 's'} of ${name}: back on their source, to be processed again.${skipped}`);
  } catch (error) {
    if (error instanceof SessionEnded) return;
    notify(`Replay failed: ${error.message}`, 'error');
    button.disabled = false;
    return;
  }
  await refresh();
  if (state.inspecting === name) await loadMessages();
}

// --- refresh loop ----------------------------------------------------------------------------

/** Health and dead letters at once; one round at a time, then the next in REFRESH_MS (not while the tab is hidden). */
function refresh() {
  if (state.refreshing) {
    // Asked again while a round is under way (after a replay, say): one more round follows it.
    state.again = true;
    return state.refreshing;
  }
  state.refreshing = (async () => {
    do {
      state.again = false;
      await refreshOnce();
    } while (state.again && state.session);
  })().finally(() => {
    state.refreshing = undefined;
    clearTimeout(state.timer);
    if (state.session && document.visibilityState !== 'hidden') state.timer = setTimeout(() => void refresh(), REFRESH_MS);
  });
  return state.refreshing;
}

async function refreshOnce() {
  if (!state.session) return;
  if (state.session.expiresAt <= Date.now()) return endSession('Your session expired. Sign in again.');
  const [health, deadLetters] = await Promise.allSettled([opsCall('/v1/ops/health', {}, [200, 503]), opsCall('/v1/ops/dead-letters')]);
  if (!state.session || [health, deadLetters].some((r) => r.status === 'rejected' && r.reason instanceof SessionEnded)) return;
  const problems = [];
  if (health.status === 'fulfilled') renderHealth(health.value ?? {});
  else problems.push(health.reason.message);
  if (deadLetters.status === 'fulfilled') renderQueues(Array.isArray(deadLetters.value?.queues) ? deadLetters.value.queues : []);
  else problems.push(deadLetters.reason.message);
  const updated = $('updated');
  if (problems.length > 0) {
    notify(problems.join(' '), 'error');
    updated.textContent = `Showing data from ${updated.dataset.at ?? 'never'}`;
  } else {
    if ($('notice').classList.contains('error')) notify('');
    updated.dataset.at = new Date().toLocaleTimeString();
    updated.textContent = `Updated ${updated.dataset.at}`;
  }
}

// --- sign-in ---------------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const email = $('email').value.trim();
  const password = $('password').value;
  if (!email || !password) return showLoginError('Enter the email and the password of an admin or ops account.');
  const button = $('sign-in');
  button.disabled = true;
  button.textContent = 'Signing in…';
  showLoginError('');
  try {
    const reply = await call('/v1/auth/login', { method: 'POST', body: { email, password }, token: null });
    if (reply.status !== 200 || typeof reply.data?.accessToken !== 'string') {
      if (reply.status === 429) return showLoginError(`Too many sign-in attempts; try again in ${reply.retryAfter ?? 'a few'} s.`);
      return showLoginError(reply.status === 401 ? `Wrong email or password (${messageOf(reply)}).` : `Sign-in failed: ${messageOf(reply)}`);
    }
    const expiresIn = Number(reply.data.expiresIn) > 0 ? Number(reply.data.expiresIn) : 900;
    state.session = { token: reply.data.accessToken, email, expiresAt: Date.now() + expiresIn * 1000 };
    // The role is checked by the first operator call: 403 brings the form back with the reason.
    await opsCall('/v1/ops/health', {}, [200, 503]);
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
    $('password').value = '';
    showDashboard();
  } catch (error) {
    if (!(error instanceof SessionEnded)) {
      state.session = undefined;
      showLoginError(error.message);
    }
  } finally {
    button.disabled = false;
    button.textContent = 'Sign in';
  }
}

function showDashboard() {
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('session').hidden = false;
  $('signed-in-as').textContent = `Signed in as ${state.session.email}`;
  notify('');
  void refresh();
}

function start() {
  $('login-form').addEventListener('submit', (event) => void signIn(event));
  $('sign-out').addEventListener('click', () => endSession(undefined));
  $('refresh').addEventListener('click', () => void refresh());
  $('inspect-close').addEventListener('click', closeInspect);
  $('inspect-refresh').addEventListener('click', () => void loadMessages());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.session) void refresh();
  });
  state.session = loadSession();
  if (state.session) showDashboard();
  else $('email').focus();
}

start();
