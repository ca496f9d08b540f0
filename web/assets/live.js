// Real time: the one websocket of this tab, the store of request rows it
// keeps up to date, and the typing indicators (the client's, and other
// agents' in the same request: collision).
//
// Rows come from list pages (on navigation) and from events; lists are views
// over the store, so an event updates every list at once without refetching.
import { useEffect, useState } from 'preact/hooks';
import * as api from './api.js';

const RECONNECT_MIN = 500;
const RECONNECT_MAX = 10000;
const TYPING_MS = 4000;

// Who is watching: predicates below decide list membership the way the server does.
const session = { active: false, agentId: 0, management: false, queue: false, viewChannels: [], viewStatuses: [] };

const rows = new Map(); // request id → Conversation
const touched = new Map(); // request id → tick of the last change by an event
let tick = 0;
let version = 0;
let queueMore = false; // the queue has more rows than the first load fetched

let socket = null;
let lastSeq = 0;
let greeted = false; // a hello was received at least once: reconnects use ?after
let retryTimer = null;
let backoff = RECONNECT_MIN;
let connection = 'idle'; // idle | connecting | open | reconnecting

const typing = new Map(); // request id → expiry time (ms)
const agentTyping = new Map(); // request id → Map(agent id → expiry time (ms))
let typingTimer = null;

const storeSubs = new Set();
const eventSubs = new Set();
const connSubs = new Set();

let scheduled = false;
function changed() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    version++;
    storeSubs.forEach((fn) => fn());
  });
}

function setConnection(state) {
  if (connection === state) return;
  connection = state;
  connSubs.forEach((fn) => fn());
}

export const getSession = () => session;

// startLive opens the websocket after login; stopLive closes it on logout.
export function startLive(me) {
  stopLive();
  const rights = (me && me.rights) || [];
  Object.assign(session, {
    active: true,
    agentId: me.agent.id,
    management: rights.includes('omnichannel.management'),
    queue: rights.includes('omnichannel.unassigned'),
  });
  // Settings → Omnichannel narrows the lists; live rows follow the same view.
  api.getOmnichannelSettings().then((o) => {
    session.viewChannels = o.view_channels || [];
    session.viewStatuses = o.view_statuses || [];
    changed();
  }, () => {});
  window.addEventListener('online', reconnectNow);
  connect();
}

// inTeamView is the team's view setting: which channels and statuses the
// Omnichannel lists show (none named: all).
const inTeamView = (c) =>
  (!session.viewChannels.length || session.viewChannels.includes(c.channel_kind)) &&
  (!session.viewStatuses.length || session.viewStatuses.includes(c.status_id));

export function stopLive() {
  session.active = false;
  window.removeEventListener('online', reconnectNow);
  clearTimeout(retryTimer);
  retryTimer = null;
  if (socket) {
    const s = socket;
    socket = null;
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
    s.close(1000, 'logout');
  }
  rows.clear();
  touched.clear();
  typing.clear();
  agentTyping.clear();
  lastSeq = 0;
  greeted = false;
  backoff = RECONNECT_MIN;
  queueMore = false;
  setConnection('idle');
  changed();
}

function reconnectNow() {
  if (!session.active || connection === 'open' || connection === 'connecting') return;
  clearTimeout(retryTimer);
  connect();
}

function connect() {
  retryTimer = null;
  if (!session.active) return;
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/ws' +
    (greeted ? `?after=${lastSeq}` : '');
  let s;
  try {
    s = new WebSocket(url);
  } catch {
    scheduleReconnect(false);
    return;
  }
  socket = s;
  let hello = false;
  if (connection !== 'reconnecting') setConnection('connecting');
  // A message is one frame, or an array of frames when the server had
  // several ready at once.
  s.onmessage = (e) => {
    let data;
    try { data = JSON.parse(e.data); } catch { return; }
    for (const frame of Array.isArray(data) ? data : [data]) {
      if (frame.kind === 'hello') {
        hello = true;
        const first = !greeted;
        if (first) lastSeq = frame.seq || 0;
        greeted = true;
        backoff = RECONNECT_MIN;
        setConnection('open');
        if (first) initialLoad();
        continue;
      }
      handleFrame(frame);
    }
  };
  s.onclose = () => {
    if (socket !== s) return;
    socket = null;
    scheduleReconnect(!hello);
  };
  s.onerror = () => {}; // onclose follows
}

function scheduleReconnect(neverOpened) {
  if (!session.active) return;
  setConnection('reconnecting');
  // A socket refused before its hello may mean the session ended: a quiet
  // /me call lets the global 401 handling take the user to the login screen.
  if (neverOpened) api.getMe().catch(() => {});
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, backoff);
  backoff = Math.min(backoff * 2, RECONNECT_MAX);
}

// initialLoad fills the counters (queue size, unread) once the stream runs,
// so no change between the two is missed.
async function initialLoad() {
  const jobs = [loadInto({ view: 'chats', limit: 200 })];
  if (session.queue) {
    jobs.push(loadInto({ view: 'unassigned', limit: 200 }).then((res) => { queueMore = !!(res && res.next); }));
  }
  await Promise.all(jobs.map((j) => j.catch(() => null)));
  changed();
}

async function loadInto(params) {
  const t = fetchTick();
  const res = await api.listConversations(params);
  mergeRows(res.conversations || [], t);
  return res;
}

function handleFrame(f) {
  if (f.kind === 'typing') {
    const cid = (f.data && f.data.conversation_id) || f.conversation_id;
    // Agents' typing reaches the other viewers too: another agent's shows as
    // a collision warning, one's own never.
    const who = f.data && f.data.who;
    if (cid && who === 'agent') {
      const aid = Number(f.data.agent_id) || 0;
      if (aid && aid !== session.agentId) setAgentTyping(cid, aid, true);
    } else if (cid) {
      setTyping(cid, true);
    }
    eventSubs.forEach((fn) => fn(f));
    return;
  }
  if (!f.seq || f.seq <= lastSeq) return; // a replayed duplicate
  lastSeq = f.seq;
  const data = f.data || {};
  const c = data.conversation;
  if (c && c.id) {
    rows.set(c.id, c);
    touched.set(c.id, ++tick);
    changed();
  }
  // A new client message ends their typing; message.updated (a reply's
  // delivery state, a client's edit) does not. Both reach onLiveEvent
  // subscribers with data {conversation, message}: the chat replaces the
  // message by id.
  if (f.kind !== 'message.updated' && data.message && data.message.kind === 'client' && typing.has(f.conversation_id)) {
    setTyping(f.conversation_id, false);
  }
  // An agent's reply or note ends their typing.
  if (f.kind === 'message.created' && data.message && data.message.author_id) {
    setAgentTyping(f.conversation_id || data.message.conversation_id, data.message.author_id, false);
  }
  eventSubs.forEach((fn) => {
    try { fn(f); } catch (err) { console.warn('live event handler failed', err); }
  });
}

// fetchTick is taken before a list request; mergeRows then keeps rows that
// an event changed while the request was under way.
export const fetchTick = () => tick;

export function mergeRows(list, since) {
  for (const c of list) {
    if ((touched.get(c.id) || 0) > since) continue;
    rows.set(c.id, c);
  }
  changed();
}

// putRow stores the answer of an action (take, close, …): it is current.
export function putRow(c) {
  if (!c || !c.id) return;
  rows.set(c.id, c);
  touched.set(c.id, ++tick);
  changed();
}

export const getRow = (id) => rows.get(id) || null;

// dropRow forgets a request this agent can no longer see (taken by someone
// else while this tab had not heard of it yet).
export function dropRow(id) {
  if (!rows.delete(id)) return;
  touched.set(id, ++tick);
  changed();
}

// refreshRow reads a request again after a conflict: supervisors still see
// it, others may not any more.
export function refreshRow(id) {
  if (!session.management) {
    dropRow(id);
    return;
  }
  const t = fetchTick();
  api.getConversation(id).then((c) => mergeRows([c], t), () => dropRow(id));
}

export function onLiveEvent(fn) {
  eventSubs.add(fn);
  return () => eventSubs.delete(fn);
}

// useStore re-renders the component whenever a row changes.
export function useStore() {
  const [, set] = useState(version);
  useEffect(() => {
    const fn = () => set(version);
    storeSubs.add(fn);
    return () => storeSubs.delete(fn);
  }, []);
  return version;
}

export function useConnection() {
  const [state, set] = useState(connection);
  useEffect(() => {
    const fn = () => set(connection);
    connSubs.add(fn);
    fn();
    return () => connSubs.delete(fn);
  }, []);
  return state;
}

// Typing indicators: shown for TYPING_MS after the last typing event.
function setTyping(cid, on) {
  if (on) typing.set(cid, Date.now() + TYPING_MS);
  else typing.delete(cid);
  scheduleExpiry();
}

function setAgentTyping(cid, agentId, on) {
  const m = agentTyping.get(cid);
  if (!on && !(m && m.has(agentId))) return;
  if (on) {
    const who = m || new Map();
    who.set(agentId, Date.now() + TYPING_MS);
    agentTyping.set(cid, who);
  } else {
    m.delete(agentId);
    if (!m.size) agentTyping.delete(cid);
  }
  scheduleExpiry();
}

// scheduleExpiry sets the timer to the soonest expiry of any indicator.
function scheduleExpiry() {
  clearTimeout(typingTimer);
  const ends = [...typing.values()];
  for (const m of agentTyping.values()) ends.push(...m.values());
  if (ends.length) typingTimer = setTimeout(expireTyping, Math.max(50, Math.min(...ends) - Date.now()));
  changed();
}

function expireTyping() {
  const now = Date.now();
  for (const [cid, until] of typing) if (until <= now) typing.delete(cid);
  for (const [cid, m] of agentTyping) {
    for (const [aid, until] of m) if (until <= now) m.delete(aid);
    if (!m.size) agentTyping.delete(cid);
  }
  scheduleExpiry();
}

export const isTyping = (cid) => (typing.get(cid) || 0) > Date.now();

// typingAgents lists the other agents typing in a request now (ids).
export function typingAgents(cid) {
  const m = agentTyping.get(cid);
  if (!m) return [];
  const now = Date.now();
  return [...m].filter(([, until]) => until > now).map(([aid]) => aid);
}

// List membership, mirroring the server's lists.
const time = (v) => (v ? Date.parse(v) : 0);

export function inView(c, view, { kind = '', status = 0 } = {}) {
  const open = !c.closed_at;
  switch (view) {
    case 'unassigned':
      return open && c.mode === 'live' && !c.assignee_id && inTeamView(c);
    case 'chats':
      return open && c.mode === 'live' && inTeamView(c) &&
        (session.management || c.assignee_id === session.agentId || (!c.assignee_id && session.queue)) &&
        (!kind || c.channel_kind === kind);
    case 'classic':
      return c.mode === 'classic' && (session.management || c.assignee_id === session.agentId) &&
        (!status || c.status_id === status);
    default:
      return false;
  }
}

// sortKey gives [time, id] in the list's order: the queue is oldest first,
// the others latest activity first.
export function sortKey(c, view) {
  return view === 'unassigned' ? [time(c.created_at), c.id] : [-time(c.last_message_at), -c.id];
}

function cmp(a, b) {
  return a[0] - b[0] || a[1] - b[1];
}

// listRows returns the rows of a list in order. With end (the sort key of the
// last loaded row) rows after it are left for "Load more".
export function listRows(view, filter, end) {
  const out = [];
  for (const c of rows.values()) {
    if (!inView(c, view, filter)) continue;
    if (end && cmp(sortKey(c, view), end) > 0) continue;
    out.push(c);
  }
  return out.sort((a, b) => cmp(sortKey(a, view), sortKey(b, view)));
}

// Counters for the sidebar.
export function queueCount() {
  let n = 0;
  for (const c of rows.values()) if (inView(c, 'unassigned')) n++;
  return { count: n, more: queueMore };
}

export function unreadByKind() {
  const out = { all: 0 };
  for (const c of rows.values()) {
    if (!c.unread || !inView(c, 'chats')) continue;
    out.all += c.unread;
    out[c.channel_kind] = (out[c.channel_kind] || 0) + c.unread;
  }
  return out;
}
