// Workspace shell: header (presence switch, connection state, user menu),
// sidebar nav with live counters, content.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import * as api from './api.js';
import { Avatar, Modal, PRESENCE_LABELS, Status, inv, reasonOf, useAction } from './ui.js';
import { CHANNELS, findNavItem, hasRight, hasWorkspaceAccess, redirect, useRoute, visibleNav } from './nav.js';
import { ForbiddenSection, NoAccess, NotFoundSection } from './sections.js';
import { AdminSection } from './admin/admin.js';
import { SettingsSection } from './settings/settings.js';
import { ManagementSection } from './management/management.js';
import { ChatsList, ClassicList, UnassignedList } from './lists.js';
import { ChatView } from './chat.js';
import { clearDrafts } from './composer.js';
import { awayReasons, resetDirectory, useResource } from './directory.js';
import { getRow, onLiveEvent, queueCount, startLive, stopLive, unreadByKind, useConnection, useStore } from './live.js';
import { Toasts, askDesktopPermission, dismissDesktopOffer, setBaseTitle, startNotifications, stopNotifications, useDesktopOffer } from './notify.js';

// The switch's values: "online", "away", "away:ID" (a reason), "offline".
// A reason known by name only is found in the list.
function presenceValue(agent, reasons) {
  const p = PRESENCE_LABELS[agent.presence] ? agent.presence : 'offline';
  const { id, name } = reasonOf(agent);
  const rid = id || (name && (reasons.find((r) => r.name === name) || {}).id) || 0;
  return p === 'away' && rid ? `away:${rid}` : p;
}

// RestrictedNote explains a refused Offline: the open requests that hold the
// agent, each a link to the request.
function RestrictedNote({ error, onClose }) {
  const list = Array.isArray(error.detail.requests) ? error.detail.requests : [];
  const items = list.map((r) => (r && typeof r === 'object' ? r : { id: r })).filter((r) => Number(r.id) > 0);
  return html`<div class="presence-note" id="presence-restricted" role="alert">
    <div class="presence-note-head">
      <strong>You can't go Offline yet</strong>
      <button type="button" class="icon-btn icon-btn-small" aria-label="Close" onClick=${onClose}>×</button>
    </div>
    <p>${items.length
      ? 'You still hold open requests in statuses that keep you online. Finish, close or transfer them first:'
      : error.message}</p>
    ${items.length ? html`<ul class="presence-note-list">
      ${items.map((r) => html`<li key=${r.id}><a href=${`#/${r.mode === 'classic' ? 'classic' : 'c'}/${r.id}`}
        class="restricted-request" data-conversation-id=${r.id} onClick=${onClose}>Request #${r.id}</a>${r.subject
        ? html` <span class="muted">${r.subject}</span>` : null}</li>`)}
    </ul>` : null}
  </div>`;
}

function PresenceSwitch({ agent, onAgent }) {
  const action = useAction();
  const reasons = useResource(awayReasons) || [];
  // While the request runs, show the chosen value; afterwards the stored one.
  const [pending, setPending] = useState(null);
  const [restricted, setRestricted] = useState(null);
  const stored = presenceValue(agent, reasons);
  const value = pending || stored;
  const presence = value.split(':')[0];
  const current = reasonOf(agent);
  // A reason deleted meanwhile still names the agent's current status.
  const options = current.id && !reasons.some((r) => r.id === current.id)
    ? [...reasons, { id: current.id, name: current.name || 'Away' }] : reasons;

  async function change(e) {
    const next = e.currentTarget.value;
    const [p, rid] = next.split(':');
    setPending(next);
    setRestricted(null);
    const res = await action.run(() => api.setPresence(p, rid ? Number(rid) : undefined), { pending: '', done: '' });
    setPending(null);
    if (res.ok && res.value) {
      const a = res.value;
      const told = 'reason' in a || 'reason_id' in a || 'away_reason_id' in a;
      onAgent(told ? a : { ...a, reason_id: p === 'away' && rid ? Number(rid) : 0 });
    } else if (!res.ok && res.error.code === 'offline_restricted') {
      setRestricted(res.error);
      action.reset();
    }
  }

  return html`<div class="presence-switch" title="Your operator status">
    <span class="dot dot-${presence}" aria-hidden="true"></span>
    <label class="visually-hidden" for="presence">Operator status</label>
    <select id="presence" value=${value} disabled=${action.busy} onChange=${change}
      onFocus=${() => awayReasons.reload()}>
      <option value="online">Online</option>
      <option value="away">Away</option>
      ${options.map((r) => html`<option key=${r.id} value=${`away:${r.id}`}>Away – ${r.name}</option>`)}
      <option value="offline">Offline</option>
    </select>
    ${action.error ? html`<span class="inline-error" role="alert">${action.error.message}</span>` : null}
    ${restricted ? html`<${RestrictedNote} error=${restricted} onClose=${() => setRestricted(null)} />` : null}
  </div>`;
}

// DesktopOffer is the one polite way of asking for desktop notifications:
// a small button the agent may click, or dismiss for good.
function DesktopOffer() {
  const show = useDesktopOffer();
  if (!show) return null;
  return html`<span class="desktop-offer">
    <button type="button" id="enable-notifications" class="btn btn-small btn-ghost"
      title="Get a desktop notification for new and assigned requests while this tab is in the background"
      onClick=${() => askDesktopPermission()}>Enable desktop notifications</button>
    <button type="button" id="dismiss-notifications" class="icon-btn icon-btn-small" aria-label="Don't ask again"
      title="Don't ask again" onClick=${dismissDesktopOffer}>×</button>
  </span>`;
}

function PasswordDialog({ email, onClose }) {
  const action = useAction();
  const [form, setForm] = useState({ current: '', next: '', confirm: '' });
  const set = (k) => (e) => setForm((f) => ({ ...f, [k]: e.currentTarget.value }));

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    if (!form.current) return action.fail('Enter your current password.', 'current_password');
    if (!form.next) return action.fail('Enter a new password.', 'new_password');
    if (form.next !== form.confirm) return action.fail('The new passwords do not match.', 'confirm_password');
    const res = await action.run(() => api.changePassword(form.current, form.next), { done: 'Password changed.' });
    if (res.ok) setForm({ current: '', next: '', confirm: '' });
  }

  return html`<${Modal} id="password-dialog" title="Change password" onClose=${onClose}>
    <form class="stack" onSubmit=${submit} noValidate>
      <input type="email" name="username" autocomplete="username" value=${email} readOnly hidden />
      <label class="field">
        <span>Current password</span>
        <input id="current-password" name="current_password" type="password" autocomplete="current-password"
          value=${form.current} onInput=${set('current')} aria-invalid=${inv(action, 'current_password')} />
      </label>
      <label class="field">
        <span>New password</span>
        <input id="new-password" name="new_password" type="password" autocomplete="new-password"
          value=${form.next} onInput=${set('next')} aria-invalid=${inv(action, 'new_password', 'password')} />
      </label>
      <label class="field">
        <span>Repeat new password</span>
        <input id="confirm-password" name="confirm_password" type="password" autocomplete="new-password"
          value=${form.confirm} onInput=${set('confirm')} aria-invalid=${inv(action, 'confirm_password')} />
      </label>
      <${Status} action=${action} id="password-status" />
      <div class="form-actions">
        <button id="password-save" type="submit" class="btn btn-primary" disabled=${action.busy}>
          ${action.busy ? 'Saving…' : 'Change password'}
        </button>
        <button type="button" class="btn btn-ghost" onClick=${onClose}>Close</button>
      </div>
    </form>
  <//>`;
}

// ConnectionState says so while the real-time connection is down.
function ConnectionState() {
  const state = useConnection();
  if (state !== 'reconnecting') return null;
  return html`<span class="live-state" id="live-status" role="status" title="Live updates are paused; they resume with everything missed.">
    <span class="spinner" aria-hidden="true"></span>Reconnecting…
  </span>`;
}

function Header({ me, onAgent, onLogout }) {
  const [pwOpen, setPwOpen] = useState(false);
  const [loggingOut, setLoggingOut] = useState(false);
  const agent = me.agent;

  async function logout() {
    setLoggingOut(true);
    await onLogout();
    setLoggingOut(false);
  }

  return html`<header class="topbar">
    <div class="brand"><span class="brand-mark" aria-hidden="true"></span>Switchboard</div>
    <div class="topbar-right">
      ${hasRight(me, 'omnichannel') ? html`<${ConnectionState} />` : null}
      ${hasRight(me, 'omnichannel') ? html`<${DesktopOffer} />` : null}
      ${hasRight(me, 'omnichannel') ? html`<${PresenceSwitch} agent=${agent} onAgent=${onAgent} />` : null}
      <div class="user-menu" id="user-menu">
        <${Avatar} url=${agent.avatar_url} name=${agent.name} size="sm" />
        <span class="user-name" id="user-name">${agent.name}</span>
        <button type="button" id="change-password" class="btn btn-small btn-ghost" onClick=${() => setPwOpen(true)}>Change password</button>
        <button type="button" id="logout" class="btn btn-small" disabled=${loggingOut} onClick=${logout}>
          ${loggingOut ? 'Signing out…' : 'Log out'}
        </button>
      </div>
    </div>
    ${pwOpen ? html`<${PasswordDialog} email=${agent.email} onClose=${() => setPwOpen(false)} />` : null}
  </header>`;
}

// navCounts gives the badge of each nav item: the queue size, unread sums.
function navCounts() {
  const q = queueCount();
  const unread = unreadByKind();
  const counts = { unassigned: q.count ? `${q.count}${q.more ? '+' : ''}` : '', all: unread.all || '' };
  for (const c of CHANNELS) counts[c.key] = unread[c.kind] || '';
  return counts;
}

function Sidebar({ items, route }) {
  useStore();
  const active = route.section === 'c' ? chatNavKey(route.sub) : route.section;
  const counts = navCounts();
  return html`<aside class="sidebar">
    <nav id="nav" aria-label="Sections">
      ${items.map((item) => html`<a
        data-nav=${item.key}
        href="#/${item.key}"
        class=${`nav-link${item.channel ? ' nav-sub' : ''}${item.key === active ? ' active' : ''}`}
        aria-current=${item.key === active ? 'page' : undefined}>
        <span class="nav-label">${item.label}</span>
        ${counts[item.key] ? html`<span class=${`nav-count${item.key === 'unassigned' ? ' nav-count-queue' : ''}`}
          data-count=${counts[item.key]} title=${item.key === 'unassigned' ? 'Waiting requests' : 'Unread messages'}>${counts[item.key]}</span>` : null}
      </a>`)}
    </nav>
  </aside>`;
}

// The chat of #/c/ID lights the list it belongs to in the sidebar.
function chatNavKey(id) {
  const c = getRow(Number(id));
  if (!c) return '';
  if (c.mode === 'classic') return 'classic';
  if (!c.assignee_id && !c.closed_at) return 'unassigned';
  return 'all';
}

const LISTS = new Set(['unassigned', 'all', 'classic', ...CHANNELS.map((c) => c.key)]);

function Content({ me, route, refreshMe }) {
  if (!hasWorkspaceAccess(me)) return html`<${NoAccess} />`;
  if (!route.section) return null; // redirecting to the default section
  if (route.section === 'c') {
    if (!hasRight(me, 'omnichannel')) return html`<${ForbiddenSection} />`;
    return html`<${ChatView} key=${route.sub} me=${me} id=${route.sub} />`;
  }
  const item = findNavItem(route.section);
  if (!item) return html`<${NotFoundSection} />`;
  if (!item.allowed(me)) return html`<${ForbiddenSection} />`;
  if (item.key === 'admin') return html`<${AdminSection} me=${me} sub=${route.sub} refreshMe=${refreshMe} />`;
  if (item.key === 'settings') return html`<${SettingsSection} me=${me} sub=${route.sub} />`;
  if (item.key === 'management') return html`<${ManagementSection} me=${me} sub=${route.sub} />`;
  if (item.key === 'classic' && route.sub) return html`<${ChatView} key=${route.sub} me=${me} id=${route.sub} />`;
  if (item.key === 'unassigned') return html`<${UnassignedList} />`;
  if (item.key === 'classic') return html`<${ClassicList} />`;
  if (LISTS.has(item.key)) return html`<${ChatsList} key=${item.key} section=${item.key} />`;
  return html`<${NotFoundSection} />`;
}

// presenceFields takes the status part of an agent.presence event's agent.
function presenceFields(a) {
  const out = { presence: a.presence };
  for (const k of ['reason', 'reason_id', 'away_reason_id', 'reason_name', 'presence_since']) if (k in a) out[k] = a[k];
  if (a.presence !== 'away') {
    out.reason = null;
    out.reason_id = 0;
    out.away_reason_id = 0;
  }
  return out;
}

const isChatRoute = (route) => route.section === 'c' || (route.section === 'classic' && !!route.sub);

export function Shell({ me, setMe, refreshMe, onLogout }) {
  const route = useRoute();
  const items = visibleNav(me);
  const first = items.length ? items[0].key : '';
  const live = hasRight(me, 'omnichannel');
  const rightsKey = `${me.agent.id}:${(me.rights || []).join(',')}`;

  // One websocket per tab, from login to logout (this component's life).
  useEffect(() => {
    if (!live) return undefined;
    startLive(me);
    startNotifications();
    return () => {
      stopNotifications();
      stopLive();
    };
  }, [live, rightsKey]);
  useEffect(() => () => {
    resetDirectory();
    clearDrafts();
    setBaseTitle('Switchboard');
  }, []);

  useEffect(() => {
    if (!route.section && first) redirect(first, route);
  }, [route.section, first]);

  useEffect(() => {
    const item = findNavItem(route.section);
    const isChat = route.section === 'c' || (route.section === 'classic' && route.sub);
    setBaseTitle(isChat ? `Request #${route.sub} · Switchboard` : item ? `${item.label} · Switchboard` : 'Switchboard');
  }, [route.section, route.sub]);

  const onAgent = (agent) => setMe((m) => (m ? { ...m, agent } : m));

  // My status changed elsewhere (another tab, a restart): follow it.
  useEffect(() => {
    if (!live) return undefined;
    return onLiveEvent((ev) => {
      const a = ev.kind === 'agent.presence' && ev.data && (ev.data.agent || ev.data);
      if (!a || a.id !== me.agent.id || !a.presence) return;
      setMe((m) => (m ? { ...m, agent: { ...m.agent, ...presenceFields(a) } } : m));
    });
  }, [live, me.agent.id]);

  return html`<div class="shell ${items.length ? '' : 'shell-no-nav'}">
    <${Header} me=${me} onAgent=${onAgent} onLogout=${onLogout} />
    <${Sidebar} items=${items} route=${route} />
    <main class=${`content${isChatRoute(route) ? ' content-chat' : ''}`} id="content">
      <${Content} me=${me} route=${route} refreshMe=${refreshMe} />
    </main>
    ${live ? html`<${Toasts} />` : null}
  </div>`;
}
