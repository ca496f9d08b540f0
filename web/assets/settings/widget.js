// Settings › Widget and chat: the embed code of a website chat channel, the
// look of its widget and a live preview (the real widget in preview mode,
// fed the unsaved appearance through postMessage).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { useList } from '../listing.js';
import { CopyButton, EmptyState, Status, inv, useAction } from '../ui.js';

const DEFAULTS = {
  agent_text: '#1f2933',
  agent_background: '#eef1f5',
  visitor_text: '#ffffff',
  visitor_background: '#2f6fde',
  position: 'right',
  department_avatar: false,
};
const COLOURS = [
  { key: 'agent_text', id: 'widget-agent-text', label: 'Agent message text' },
  { key: 'agent_background', id: 'widget-agent-background', label: 'Agent message background' },
  { key: 'visitor_text', id: 'widget-visitor-text', label: 'Visitor message text' },
  { key: 'visitor_background', id: 'widget-visitor-background', label: 'Visitor message background' },
];
const HEX = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i;

// The channel to open with, when another page (Channels) pointed at one.
let preferred = 0;
export const preferWidgetChannel = (id) => { preferred = id; };

// hex normalises "#ABC" / "abcdef" to "#aabbcc" ('' when not a colour).
function hex(v) {
  const m = HEX.exec(String(v || '').trim());
  if (!m) return '';
  const h = m[1].toLowerCase();
  return `#${h.length === 3 ? h.replace(/./g, (c) => c + c) : h}`;
}

function appearanceOf(channel) {
  const a = { ...DEFAULTS, ...((channel.widget && channel.widget.appearance) || {}) };
  for (const c of COLOURS) a[c.key] = hex(a[c.key]) || DEFAULTS[c.key];
  a.position = a.position === 'left' ? 'left' : 'right';
  a.department_avatar = !!a.department_avatar;
  return a;
}

const same = (a, b) => Object.keys(DEFAULTS).every((k) => a[k] === b[k]);

const embedCodeOf = (channel) => (channel.widget && channel.widget.embed_code)
  || `<script src="${location.origin}/widget/loader.js" data-channel="${channel.id}" async></script>`;

function EmbedCode({ channel }) {
  const code = embedCodeOf(channel);
  return html`<section class="card form-card" aria-labelledby="widget-embed-title">
    <h2 id="widget-embed-title">Embed code</h2>
    <p class="hint">Paste it into the <code>${'<body>'}</code> of every page of your site.</p>
    <textarea id="widget-embed-code" class="code-input" rows="3" readOnly spellcheck="false" value=${code}
      aria-label="Embed code" onFocus=${(e) => e.currentTarget.select()}></textarea>
    <div class="form-actions"><${CopyButton} id="widget-embed-copy" value=${code} label="Copy code" /></div>
    <div class="stack-tight">
      <p class="hint">Optional attributes on the script tag fill in a known visitor, so they never type their details again:</p>
      <dl class="attr-list">
        <dt><code>data-user-name</code></dt><dd>the visitor's name;</dd>
        <dt><code>data-user-email</code></dt><dd>the visitor's email;</dd>
        <dt><code>data-user-hash</code></dt><dd>lowercase hex HMAC-SHA256 of the trimmed, lowercased email, keyed with the
          channel's identity secret (Settings › Channels). Computed on your site's server, it marks the email as verified,
          so the chat joins the existing client with that email. With strict identity on, an email without a valid hash is refused.</dd>
      </dl>
    </div>
  </section>`;
}

// ColorField is a colour picker with its hex value, which can be typed too.
function ColorField({ id, label, value, invalid, onChange }) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  const bad = draft !== value && !hex(draft);
  return html`<div class="field color-field">
    <label for=${id}>${label}</label>
    <div class="color-row">
      <input id=${id} type="color" value=${value} aria-invalid=${invalid}
        onInput=${(e) => onChange(hex(e.currentTarget.value) || value)} />
      <input type="text" class="color-hex" value=${draft} maxLength="7" spellcheck="false" autocomplete="off"
        aria-label=${`${label}, hex value`} aria-invalid=${bad ? 'true' : invalid}
        onInput=${(e) => { const v = e.currentTarget.value; setDraft(v); if (hex(v) && v.replace('#', '').length === 6) onChange(hex(v)); }}
        onBlur=${() => setDraft(value)} />
    </div>
  </div>`;
}

function Preview({ channelId, appearance }) {
  const frame = useRef(null);
  const latest = useRef(appearance);
  latest.current = appearance;

  const post = useCallback(() => {
    const win = frame.current && frame.current.contentWindow;
    if (win) win.postMessage({ switchboard: 'appearance', appearance: latest.current }, location.origin);
  }, []);

  useEffect(post, [appearance]);
  // The preview may say when its chat is ready (after the load event).
  useEffect(() => {
    const onMessage = (e) => {
      if (e.origin === location.origin && frame.current && e.source === frame.current.contentWindow
        && e.data && e.data.switchboard === 'ready') post();
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, [post]);

  return html`<aside class="widget-preview-pane" aria-labelledby="widget-preview-title">
    <h2 id="widget-preview-title">Preview</h2>
    <iframe id="widget-preview" class="widget-preview" ref=${frame} src=${`/widget/preview/${encodeURIComponent(channelId)}`}
      title="Widget preview" width="380" height="560" onLoad=${post}></iframe>
    <p class="hint">Changes show here at once; your site's visitors see them after you save.</p>
  </aside>`;
}

function WidgetSettings({ channel, onChannel }) {
  const action = useAction();
  const [saved, setSaved] = useState(() => appearanceOf(channel));
  const [look, setLook] = useState(saved);
  const dirty = !same(look, saved);

  function set(key, value) {
    if (action.message && !action.busy && !action.error) action.reset();
    setLook((a) => ({ ...a, [key]: value }));
  }

  async function save(e) {
    e.preventDefault();
    if (action.busy || !dirty) return;
    const appearance = { ...look };
    const res = await action.run(() => api.updateChannel(channel.id, { widget: { appearance } }),
      { pending: 'Saving…', done: 'Saved. Your site shows the new look on the next page load.' });
    if (!res.ok) return;
    const next = res.value && res.value.widget ? appearanceOf(res.value) : appearance;
    setSaved(next);
    setLook(next);
    if (res.value && res.value.id) onChannel(res.value);
  }

  const field = (k) => inv(action, k, `appearance.${k}`, `widget.appearance.${k}`);
  const w = channel.widget || {};
  return html`<div class="widget-layout">
    <div class="widget-main">
      ${!channel.active ? html`<p class="status status-error" role="status">This channel is disabled, so the widget does not show on your site. Enable it in <a href="#/settings/channels">Channels</a>.</p>` : null}
      ${!(w.origins || []).length ? html`<p class="hint hint-warn">No site is allowed to embed this widget yet: add your site's address to the channel in <a href="#/settings/channels">Channels</a>.</p>` : null}
      <${EmbedCode} channel=${channel} />
      <form class="card form-card" id="widget-appearance" onSubmit=${save} noValidate aria-labelledby="widget-appearance-title">
        <h2 id="widget-appearance-title">Appearance</h2>
        <div class="colour-grid">
          ${COLOURS.map((c) => html`<${ColorField} key=${c.key} id=${c.id} label=${c.label} value=${look[c.key]}
            invalid=${field(c.key)} onChange=${(v) => set(c.key, v)} />`)}
        </div>
        <fieldset class="checks checks-inline" aria-invalid=${field('position')}>
          <legend>Default position</legend>
          <label class="check"><input type="radio" name="widget-position" value="right" checked=${look.position === 'right'}
            onChange=${() => set('position', 'right')} /><span>Bottom right</span></label>
          <label class="check"><input type="radio" name="widget-position" value="left" checked=${look.position === 'left'}
            onChange=${() => set('position', 'left')} /><span>Bottom left</span></label>
        </fieldset>
        <label class="check">
          <input id="widget-department-avatar" type="checkbox" checked=${look.department_avatar}
            aria-invalid=${field('department_avatar')} onChange=${(e) => set('department_avatar', e.currentTarget.checked)} />
          <span>Show a single department avatar in the widget
            <small class="hint">Visitors see the department's name and avatar (Administration › Departments) instead of the agent who answers.</small>
            <small class="hint" id="widget-department-avatar-global">This turns it on for this website chat only; the same option in
              <a href="#/settings/omnichannel">Omnichannel settings</a> applies to all website chats.</small></span>
        </label>
        <div class="form-actions">
          <button id="widget-save" type="submit" class="btn btn-primary" disabled=${action.busy || !dirty}>
            ${action.busy ? 'Saving…' : 'Save'}</button>
          ${dirty && !action.busy ? html`<button id="widget-discard" type="button" class="btn btn-ghost"
            onClick=${() => { action.reset(); setLook(saved); }}>Discard changes</button>` : null}
          <${Status} action=${action} id="widget-status" />
        </div>
      </form>
    </div>
    <${Preview} key=${channel.id} channelId=${channel.id} appearance=${look} />
  </div>`;
}

export function WidgetPage() {
  const channels = useList(async () => (await api.listChannels()).filter((c) => c.kind === 'widget'));
  const [selected, setSelected] = useState(0);
  const items = channels.items || [];
  const pick = items.find((c) => c.id === selected) || items.find((c) => c.id === preferred)
    || items.find((c) => c.active) || items[0];

  const onChannel = (c) => channels.setItems((list) => (list || []).map((x) => (x.id === c.id ? c : x)));
  function choose(e) {
    const id = Number(e.currentTarget.value);
    setSelected(id);
    preferred = id;
  }

  let body;
  if (channels.error) {
    body = html`<div class="card">
      <p class="status status-error" role="alert">${channels.error.message}</p>
      <button type="button" class="btn btn-small" onClick=${channels.reload}>Try again</button>
    </div>`;
  } else if (!channels.items) {
    body = html`<p class="muted" role="status">Loading website chats…</p>`;
  } else if (!pick) {
    body = html`<${EmptyState} id="widget-empty">No website chat yet. Add a channel of type “Website chat” in
      ${' '}<a href="#/settings/channels" id="widget-empty-channels">Channels</a>, then come back here for its embed code.<//>`;
  } else {
    body = html`
      ${items.length > 1 ? html`<label class="field field-narrow">
        <span>Website chat</span>
        <select id="widget-channel-select" value=${String(pick.id)} onChange=${choose}>
          ${items.map((c) => html`<option key=${c.id} value=${String(c.id)}>${c.name}${c.active ? '' : ' (disabled)'}</option>`)}
        </select>
      </label>` : html`<p class="widget-channel" id="widget-channel-name">Website chat <strong>${pick.name}</strong></p>`}
      <${WidgetSettings} key=${pick.id} channel=${pick} onChannel=${onChannel} />`;
  }
  return html`<div class="admin-page" id="settings-widget">${body}</div>`;
}
