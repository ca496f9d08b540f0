// Small shared UI pieces: avatars, presence dots, action feedback, dialogs.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { ApiError, AVATAR_TYPES, checkAvatarFile } from './api.js';

export const PRESENCE_LABELS = { online: 'Online', away: 'Away', offline: 'Offline' };

// reasonOf reads an agent's away reason: {id, name} (either may be missing).
export function reasonOf(agent) {
  const r = agent && agent.reason;
  const id = Number((r && typeof r === 'object' ? r.id : 0) || (agent && (agent.reason_id || agent.away_reason_id)) || 0);
  const name = r && typeof r === 'object' ? r.name || '' : typeof r === 'string' ? r : (agent && agent.reason_name) || '';
  return { id, name };
}

function initials(name) {
  const letter = (word) => (word.match(/[\p{L}\p{N}]/u) || [''])[0];
  const parts = String(name || '').trim().split(/\s+/).map(letter).filter(Boolean);
  if (!parts.length) return '?';
  return (parts[0] + (parts.length > 1 ? parts[parts.length - 1] : '')).toUpperCase();
}

function colourIndex(name) {
  let n = 0;
  for (const ch of String(name || '')) n = (n * 31 + ch.codePointAt(0)) >>> 0;
  return n % 6;
}

// Avatar shows the image when there is one, otherwise coloured initials.
export function Avatar({ url, name, size = 'md' }) {
  if (url) {
    return html`<img class="avatar avatar-${size}" src=${url} alt="" loading="lazy" />`;
  }
  return html`<span class="avatar avatar-${size} avatar-c${colourIndex(name)}" aria-hidden="true">${initials(name)}</span>`;
}

export function PresenceDot({ presence, withLabel = false }) {
  const p = PRESENCE_LABELS[presence] ? presence : 'offline';
  return html`<span class="presence">
    <span class="dot dot-${p}" title=${PRESENCE_LABELS[p]} aria-hidden="true"></span>
    ${withLabel ? html`<span class="presence-label">${PRESENCE_LABELS[p]}</span>` : html`<span class="visually-hidden">${PRESENCE_LABELS[p]}</span>`}
  </span>`;
}

// useAction tracks one in-flight request with its feedback text.
// run(fn, {pending, done}) resolves to {ok, value}; it never throws.
export function useAction() {
  const [state, setState] = useState({ busy: false, error: null, message: '' });
  const alive = useRef(true);
  useEffect(() => () => { alive.current = false; }, []);

  const run = useCallback(async (fn, { pending = 'Saving…', done = 'Saved.' } = {}) => {
    setState({ busy: true, error: null, message: pending });
    try {
      const value = await fn();
      if (alive.current) setState({ busy: false, error: null, message: done || '' });
      return { ok: true, value };
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, 'client_error', e && e.message ? e.message : 'Something went wrong.');
      if (alive.current) setState({ busy: false, error: err, message: '' });
      return { ok: false, error: err };
    }
  }, []);

  const fail = useCallback((message, field) => {
    setState({ busy: false, error: new ApiError(0, 'client_validation', message, field), message: '' });
  }, []);
  const reset = useCallback(() => setState({ busy: false, error: null, message: '' }), []);

  return { ...state, run, fail, reset };
}

// useEditForm holds an inline form's state (initial as for useState) and
// its save action. formRef goes on the <form>: it scrolls into view with
// firstFieldId focused when it opens.
export function useEditForm(initial, firstFieldId) {
  const action = useAction();
  const [form, setForm] = useState(initial);
  const formRef = useRef(null);

  useEffect(() => {
    formRef.current?.scrollIntoView({ block: 'nearest' });
    document.getElementById(firstFieldId)?.focus();
  }, []);
  // A refused field gets the focus, so it can be corrected at once.
  useEffect(() => {
    if (!action.error) return;
    requestAnimationFrame(() => formRef.current?.querySelector('[aria-invalid="true"]')?.focus());
  }, [action.error]);

  // Edits keep a refusal on screen until the next save, but clear "Saved".
  const change = (fn) => {
    if (action.message && !action.busy) action.reset();
    setForm(fn);
  };
  const set = (k) => (v) => change((f) => ({ ...f, [k]: v }));

  return { action, form, setForm, change, set, formRef };
}

// inv returns "true" for aria-invalid when the action's error names this field.
export function inv(action, ...fields) {
  return action.error && action.error.field && fields.includes(action.error.field) ? 'true' : undefined;
}

// Status renders the feedback line of an action (always present for screen readers).
export function Status({ action, id, className = '' }) {
  const { busy, error, message } = action;
  if (error) {
    return html`<p id=${id} class="status status-error ${className}" role="alert">${error.message}</p>`;
  }
  return html`<p id=${id} class="status ${busy ? 'status-pending' : message ? 'status-ok' : ''} ${className}" role="status">${message}</p>`;
}

// Modal is a native <dialog> shown as modal while mounted.
export function Modal({ id, title, onClose, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => { if (d && d.open) d.close(); };
  }, []);
  const titleId = `${id}-title`;
  return html`<dialog id=${id} class="modal" ref=${ref} aria-labelledby=${titleId} onClose=${onClose}>
    <div class="modal-head">
      <h2 id=${titleId}>${title}</h2>
      <button type="button" class="icon-btn" aria-label="Close" onClick=${onClose}>×</button>
    </div>
    ${children}
  </dialog>`;
}

// AvatarInput is a button-looking label around a file input. It checks type
// and size locally, then hands the file to onFile.
export function AvatarInput({ label = 'Upload avatar', disabled, onFile, onInvalid, className = '' }) {
  function changed(e) {
    const input = e.currentTarget;
    const file = input.files && input.files[0];
    input.value = '';
    if (!file) return;
    const problem = checkAvatarFile(file);
    if (problem) onInvalid(problem);
    else onFile(file);
  }
  return html`<label class="btn btn-small file-btn ${disabled ? 'is-disabled' : ''} ${className}">
    ${label}
    <input type="file" class="visually-hidden" accept=${AVATAR_TYPES.join(',')} disabled=${disabled} onChange=${changed} />
  </label>`;
}

// copyText puts text on the clipboard; without the Clipboard API (plain
// http) it falls back to selecting a temporary textarea. Resolves to success.
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the selection fallback
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'visually-hidden';
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

// CopyButton copies value and says so for a moment.
export function CopyButton({ value, id, className = '', label = 'Copy' }) {
  const [state, setState] = useState(''); // '' | 'copied' | 'failed'
  const timer = useRef(0);
  useEffect(() => () => clearTimeout(timer.current), []);
  async function copy() {
    const ok = await copyText(value);
    setState(ok ? 'copied' : 'failed');
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState(''), 2500);
  }
  return html`<button type="button" id=${id} class="btn btn-small ${className}" onClick=${copy}
    title=${state === 'failed' ? 'Copying is blocked here: select the text and copy it yourself.' : undefined}>
    ${state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : label}
  </button>`;
}

// OneTimeSecret shows a generated password once, with a copy button.
export function OneTimeSecret({ id, className = '', value, note, onDismiss }) {
  return html`<div class="onetime" role="status">
    <div class="onetime-row">
      <code id=${id} class="onetime-value ${className}">${value}</code>
      <${CopyButton} value=${value} />
      ${onDismiss ? html`<button type="button" class="btn btn-small btn-ghost" onClick=${onDismiss}>Done</button>` : null}
    </div>
    <p class="onetime-note">${note}</p>
  </div>`;
}

// EmptyState is the one-sentence placeholder for sections without data.
export function EmptyState({ children, id }) {
  return html`<div class="empty-state" id=${id}><p>${children}</p></div>`;
}
