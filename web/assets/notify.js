// Notifications: a short sound and a "(N) " prefix on the tab title when a
// new request arrives, a client writes in one of my chats, a request is
// assigned to me by someone else (or the dispatcher) or someone leaves a
// note in my request, while the tab is hidden or that chat is not open.
// Viewing the chat (or, for new requests, the queue) clears it.
// An SLA breach also shows as a toast in the workspace, to the assignee (or,
// while the request is queued, to the agents who can take it) and to
// supervisors.
// While the tab is hidden, new requests, assignments and others' notes also
// show as desktop notifications, once the agent allowed them (asked only
// when they click "Enable desktop notifications", never on page load).
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { agentName, agents } from './directory.js';
import { getSession, onLiveEvent } from './live.js';

let baseTitle = document.title || 'Switchboard';
const pending = new Map(); // request id → 'new' | 'message'
let audio = null;
let lastBeep = 0;
let unsubscribe = null;

function render() {
  document.title = pending.size ? `(${pending.size}) ${baseTitle}` : baseTitle;
}

// setBaseTitle is used by the shell instead of assigning document.title.
export function setBaseTitle(title) {
  baseTitle = title;
  render();
}

const openChat = () => {
  const m = /^#\/(?:c|classic)\/(\d+)/.exec(location.hash);
  return m ? Number(m[1]) : 0;
};
const onQueue = () => /^#\/unassigned\b/.test(location.hash);

function clearViewed() {
  if (document.hidden) return;
  const open = openChat();
  let changed = pending.delete(open);
  if (onQueue()) {
    for (const [cid, why] of pending) {
      if (why === 'new') changed = pending.delete(cid) || changed;
    }
  }
  if (changed) render();
}

// The browser lets audio start only after a user gesture: the context is
// made on the first click or key press, and reused.
function unlockAudio() {
  if (audio) return;
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx) audio = new Ctx();
  } catch {
    audio = null;
  }
}

// beep plays two short sine tones (no audio files needed).
export function beep() {
  const now = Date.now();
  if (!audio || now - lastBeep < 1500) return;
  lastBeep = now;
  try {
    if (audio.state === 'suspended') audio.resume();
    const t = audio.currentTime + 0.01;
    [[880, 0], [1320, 0.12]].forEach(([freq, at]) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + at);
      gain.gain.exponentialRampToValueAtTime(0.18, t + at + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + at);
      osc.stop(t + at + 0.18);
    });
  } catch {
    // Sound is a nicety; never break the workspace for it.
  }
}

// Desktop notifications (the browser's Notification API). They need a
// secure context (https, or localhost).
const DISMISSED_KEY = 'switchboard.desktop-notifications.dismissed';
const permSubs = new Set();

function desktopSupported() {
  return typeof window.Notification === 'function' && window.isSecureContext !== false;
}

// desktopPermission: 'unsupported' | 'default' | 'granted' | 'denied'.
export function desktopPermission() {
  return desktopSupported() ? window.Notification.permission : 'unsupported';
}

function dismissed() {
  try { return localStorage.getItem(DISMISSED_KEY) === '1'; } catch { return false; }
}

// askDesktopPermission runs on the agent's click only.
export async function askDesktopPermission() {
  if (!desktopSupported()) return 'unsupported';
  let result;
  try {
    result = await window.Notification.requestPermission();
  } catch {
    result = window.Notification.permission;
  }
  permSubs.forEach((fn) => fn());
  return result;
}

export function dismissDesktopOffer() {
  try { localStorage.setItem(DISMISSED_KEY, '1'); } catch { /* private mode: hidden for this page only */ }
  permSubs.forEach((fn) => fn());
}

// useDesktopOffer says whether to offer "Enable desktop notifications":
// supported, not decided yet, not dismissed.
export function useDesktopOffer() {
  const offer = () => desktopPermission() === 'default' && !dismissed();
  const [show, setShow] = useState(offer);
  useEffect(() => {
    const fn = () => setShow(offer());
    permSubs.add(fn);
    return () => permSubs.delete(fn);
  }, []);
  return show;
}

// desktop shows a notification while the tab is hidden; clicking it opens the request.
function desktop(title, body, cid) {
  if (!document.hidden || desktopPermission() !== 'granted') return;
  try {
    const n = new window.Notification(title, { body: String(body || '').slice(0, 180), tag: `switchboard-${cid}`, renotify: true });
    n.onclick = () => {
      window.focus();
      location.hash = `#/c/${cid}`;
      n.close();
    };
  } catch {
    // Some browsers allow notifications only from a service worker; the title and sound remain.
  }
}

const clientOf = (c) => c.client_name || 'Client';
function nameOf(agentId) {
  const list = agents.get();
  if (!list) agents.load();
  return agentName(list, agentId);
}

// assignedToMe: an assignment to me that I did not make myself (taking a
// request is my own doing; the dispatcher's and others' are not).
function assignedToMe(ev, c, me) {
  if (c.assignee_id !== me || c.closed_at) return false;
  const by = ev.data && ev.data.message ? ev.data.message.author_id || 0 : 0;
  if (ev.kind === 'conversation.assigned' || ev.kind === 'conversation.transferred') return by !== me;
  // The dispatcher may hand a new request out in the same write that creates it.
  return ev.kind === 'conversation.created';
}

// Toasts: short-lived notices in the workspace (SLA breaches).
let toasts = [];
const toastSubs = new Set();
let toastSeq = 0;
const TOAST_MS = 30000;

function setToasts(next) {
  toasts = next;
  toastSubs.forEach((fn) => fn(toasts));
}

function toast(t) {
  const id = ++toastSeq;
  setToasts([...toasts.slice(-4), { ...t, id }]);
  setTimeout(() => dismissToast(id), TOAST_MS);
}

const dismissToast = (id) => setToasts(toasts.filter((t) => t.id !== id));

// Toasts renders the workspace's notices.
export function Toasts() {
  const [list, setList] = useState(toasts);
  useEffect(() => {
    toastSubs.add(setList);
    return () => toastSubs.delete(setList);
  }, []);
  if (!list.length) return null;
  return html`<div class="toasts" role="status" aria-live="polite">
    ${list.map((t) => html`<div key=${t.id} class="toast toast-${t.kind}" data-toast=${t.kind} data-conversation-id=${t.cid}>
      <a href=${`#/c/${t.cid}`} class="toast-body" onClick=${() => dismissToast(t.id)}>
        <strong>${t.title}</strong><span>${t.body}</span>
      </a>
      <button type="button" class="btn btn-ghost btn-small toast-close" aria-label="Dismiss" onClick=${() => dismissToast(t.id)}>×</button>
    </div>`)}
  </div>`;
}

// breachFor says whether an SLA breach is this agent's business: their
// request, a queued one they can take, or any for a supervisor.
function breachFor(c, s) {
  if (c.assignee_id) return c.assignee_id === s.agentId || s.management;
  return s.queue || s.management;
}

function onEvent(ev) {
  const data = ev.data || {};
  const c = data.conversation;
  if (!c) return;
  const s = getSession();
  const viewing = !document.hidden && openChat() === c.id;
  const m = data.message;
  let alert = false;
  if (ev.kind === 'conversation.sla_breached') {
    if (!breachFor(c, s)) return;
    const what = m && m.body ? m.body.replace(/^SLA breached: /, '') : 'a target';
    const who = c.assignee_id ? (c.assignee_id === s.agentId ? 'your request' : nameOf(c.assignee_id)) : 'unassigned';
    toast({ kind: 'sla', cid: c.id, title: `SLA breached · Request #${c.id}`, body: `${clientOf(c)} (${who}): ${what}` });
    desktop(`SLA breached · Request #${c.id}`, `${clientOf(c)}: ${what}`, c.id);
    if (c.assignee_id === s.agentId && !viewing) pending.set(c.id, 'message');
    beep();
    render();
    return;
  }
  if (assignedToMe(ev, c, s.agentId)) {
    if (!viewing) {
      pending.set(c.id, 'message');
      alert = true;
    }
    const line = m && m.kind === 'event' && m.body ? m.body : (m && m.author_id ? `Assigned by ${nameOf(m.author_id)}` : 'Assigned by the dispatcher');
    desktop(`Request #${c.id} is yours: ${clientOf(c)}`, line, c.id);
  } else if (ev.kind === 'conversation.created' && !c.assignee_id && (s.queue || s.management)) {
    if (!viewing && !(onQueue() && !document.hidden)) pending.set(c.id, 'new');
    alert = !viewing;
    if (s.queue) desktop(`New request: ${clientOf(c)}`, c.subject || c.last_message_preview || `Request #${c.id} is waiting in the queue.`, c.id);
  } else if (ev.kind === 'message.created' && m && m.kind === 'note' && m.author_id && m.author_id !== s.agentId && c.assignee_id === s.agentId) {
    // A supervisor's (or a transferring colleague's) note in my request.
    if (!viewing) {
      pending.set(c.id, 'message');
      alert = true;
    }
    desktop(`Note from ${nameOf(m.author_id)} · Request #${c.id}`, m.body, c.id);
  } else if (ev.kind === 'message.created' && data.message && data.message.kind === 'client' && c.assignee_id === s.agentId) {
    if (!viewing) {
      pending.set(c.id, 'message');
      alert = true;
    }
  } else if (pending.has(c.id)) {
    // Taken by someone else, transferred away or closed: nothing to look at any more.
    const why = pending.get(c.id);
    const gone = c.closed_at || (why === 'new' ? c.assignee_id && c.assignee_id !== s.agentId : c.assignee_id !== s.agentId);
    if (gone) pending.delete(c.id);
  }
  if (alert) beep();
  render();
}

export function startNotifications() {
  stopNotifications();
  unsubscribe = onLiveEvent(onEvent);
  window.addEventListener('hashchange', clearViewed);
  document.addEventListener('visibilitychange', clearViewed);
  window.addEventListener('pointerdown', unlockAudio, true);
  window.addEventListener('keydown', unlockAudio, true);
}

export function stopNotifications() {
  if (unsubscribe) unsubscribe();
  unsubscribe = null;
  pending.clear();
  setToasts([]);
  window.removeEventListener('hashchange', clearViewed);
  document.removeEventListener('visibilitychange', clearViewed);
  window.removeEventListener('pointerdown', unlockAudio, true);
  window.removeEventListener('keydown', unlockAudio, true);
  render();
}
