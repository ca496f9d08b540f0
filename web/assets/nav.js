// Navigation model and hash routing (#/unassigned, #/admin/agents, …).
import { useEffect, useState } from 'preact/hooks';

// CHANNELS are the channel tabs; kind is the channel_kind of their requests.
export const CHANNELS = [
  { key: 'chat', label: 'Chat', kind: 'widget' },
  { key: 'facebook', label: 'Facebook', kind: 'messenger' },
  { key: 'vk', label: 'VK', kind: 'vk' },
  { key: 'viber', label: 'Viber', kind: 'viber' },
  { key: 'ok', label: 'OK', kind: 'ok' },
  { key: 'telegram', label: 'Telegram', kind: 'telegram' },
  { key: 'instagram', label: 'Instagram Direct', kind: 'instagram' },
  { key: 'whatsapp', label: 'WhatsApp', kind: 'whatsapp' },
];

// KIND_LABELS names every channel kind (api requests show in All chats only).
export const KIND_LABELS = {
  widget: 'Chat', messenger: 'Facebook', vk: 'VK', viber: 'Viber', ok: 'OK',
  telegram: 'Telegram', instagram: 'Instagram', whatsapp: 'WhatsApp', api: 'API',
};
export const kindLabel = (kind) => KIND_LABELS[kind] || kind || '';

// hasRight checks the effective rights computed by the server (used as-is).
export function hasRight(me, right) {
  return Array.isArray(me && me.rights) && me.rights.includes(right);
}

export function isAdmin(me) {
  return !!(me && me.is_admin);
}

// hasWorkspaceAccess: agents with neither Omnichannel nor admin see no sections.
export function hasWorkspaceAccess(me) {
  return hasRight(me, 'omnichannel') || isAdmin(me);
}

// NAV_ITEMS in sidebar order; allowed(me) decides visibility.
export const NAV_ITEMS = [
  { key: 'management', label: 'Management', allowed: (me) => hasRight(me, 'omnichannel.management') },
  { key: 'unassigned', label: 'Unassigned', allowed: (me) => hasRight(me, 'omnichannel.unassigned') },
  { key: 'all', label: 'All chats', allowed: (me) => hasRight(me, 'omnichannel') },
  ...CHANNELS.map((c) => ({ ...c, channel: true, allowed: (me) => hasRight(me, 'omnichannel') })),
  { key: 'classic', label: 'Classic requests', allowed: (me) => hasRight(me, 'omnichannel') },
  { key: 'settings', label: 'Settings', allowed: (me) => hasRight(me, 'omnichannel.settings') },
  { key: 'admin', label: 'Administration', allowed: (me) => isAdmin(me) },
];

export function visibleNav(me) {
  if (!hasWorkspaceAccess(me)) return [];
  return NAV_ITEMS.filter((item) => item.allowed(me));
}

export function findNavItem(key) {
  return NAV_ITEMS.find((item) => item.key === key) || null;
}

// parseRoute turns "#/admin/agents" into {section: "admin", sub: "agents"}
// (a chat is "#/c/42": {section: "c", sub: "42"}).
export function parseRoute(hash) {
  const path = String(hash || '').replace(/^#\/?/, '');
  const parts = path.split('/').filter(Boolean);
  return { section: parts[0] || '', sub: parts[1] || '' };
}

export function useRoute() {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}

// redirect replaces the current history entry, so Back skips default routes.
// It goes to a default only from where the caller saw the route: a render
// that is a moment late must not undo a navigation made meanwhile.
export function redirect(path, from) {
  const target = `#/${path}`;
  const now = parseRoute(window.location.hash);
  if (from && (now.section !== from.section || now.sub !== from.sub)) return;
  if (window.location.hash !== target) window.location.replace(target);
}

// clearRoute drops the hash (after logout, so the next user gets their default).
export function clearRoute() {
  if (window.location.hash) {
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
}
