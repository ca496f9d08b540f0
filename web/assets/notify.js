// Notifications: a short sound and a "(N) " prefix on the tab title when a
// new request arrives, or a client writes in one of my chats, while the tab
// is hidden or that chat is not open. Viewing the chat (or, for new
// requests, the queue) clears it.
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

function onEvent(ev) {
  const data = ev.data || {};
  const c = data.conversation;
  if (!c) return;
  const s = getSession();
  const viewing = !document.hidden && openChat() === c.id;
  let alert = false;
  if (ev.kind === 'conversation.created' && !c.assignee_id && (s.queue || s.management)) {
    if (!viewing && !(onQueue() && !document.hidden)) pending.set(c.id, 'new');
    alert = !viewing;
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
  window.removeEventListener('hashchange', clearViewed);
  document.removeEventListener('visibilitychange', clearViewed);
  window.removeEventListener('pointerdown', unlockAudio, true);
  window.removeEventListener('keydown', unlockAudio, true);
  render();
}
