// Settings › Channels: connected channels. Website chats (widget) and API
// channels can be added here, edited, disabled and removed; an API channel's
// token is shown once, a website chat's identity secret on demand.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { kindLabel } from '../nav.js';
import { ListBody, RowActions, useList } from '../listing.js';
import { CopyButton, OneTimeSecret, Status, inv, useAction } from '../ui.js';
import { preferWidgetChannel } from './widget.js';

// Kinds that can be created here, in the order of the select.
const KINDS = [
  { value: 'api', label: 'API' },
  { value: 'widget', label: 'Website chat' },
];
export const channelKindLabel = (kind) => (kind === 'widget' ? 'Website chat' : kindLabel(kind));

// parseOrigins turns the textarea (one site a line) into origins, or
// {error} naming the first line that is not an http(s) site address.
export function parseOrigins(text) {
  const origins = [];
  for (const line of String(text || '').split(/\r?\n/)) {
    const v = line.trim();
    if (!v) continue;
    let url = null;
    try { url = new URL(v); } catch { url = null; }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.host) {
      return { error: `“${v}” is not a site address. Write it like https://shop.example.com.` };
    }
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
      return { error: `“${v}” is a page, not a site: write only the site's address, like ${url.origin}.` };
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return { origins };
}

const inboundURL = (id) => `${location.origin}/api/v1/channels/${id}/inbound`;

function curlExample(id, token) {
  return `curl -X POST '${inboundURL(id)}' \\
  -H 'Authorization: Bearer ${token}' \\
  -H 'Content-Type: application/json' \\
  -d '{"message_id":"m1","sender":{"id":"u1","name":"Ivan","email":"ivan@example.com"},"text":"Hello"}'`;
}

// TokenBox shows a channel token once, with how to use it.
function TokenBox({ channelId, token, idPrefix, onDismiss }) {
  return html`<div class="created token-box" data-token-channel=${channelId}>
    <p>API token of the channel — send it as <code>Authorization: Bearer …</code>:</p>
    <${OneTimeSecret} id=${`${idPrefix}-token`} className="channel-token" value=${token}
      note="Shown only once. Store it in your integration; rotate it here if it leaks." onDismiss=${onDismiss} />
    <p>Post client messages to <code id=${`${idPrefix}-inbound-url`} class="channel-inbound-url">POST ${inboundURL(channelId)}</code>, for example:</p>
    <pre class="code-block" id=${`${idPrefix}-curl`}>${curlExample(channelId, token)}</pre>
    <p class="hint">POST …/typing with <code>{"sender_id":"u1"}</code> shows the client as typing.</p>
  </div>`;
}

function ChannelForm({ channel, departments, groups, action, onSaved, onCancel }) {
  const [kind, setKind] = useState(channel ? channel.kind : 'api');
  const [name, setName] = useState(channel ? channel.name : '');
  const [dep, setDep] = useState(channel && channel.department_id ? String(channel.department_id) : '');
  const [group, setGroup] = useState(channel && channel.group_id ? String(channel.group_id) : '');
  const w = (channel && channel.widget) || {};
  const [origins, setOrigins] = useState((w.origins || []).join('\n'));
  const [strict, setStrict] = useState(!!w.strict_identity);
  const widget = kind === 'widget';

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    if (!name.trim()) return action.fail('Enter a name.', 'name');
    const body = { name: name.trim(), department_id: dep ? Number(dep) : 0, group_id: group ? Number(group) : 0 };
    if (widget) {
      const parsed = parseOrigins(origins);
      if (parsed.error) return action.fail(parsed.error, 'origins');
      if (!parsed.origins.length) return action.fail('Enter at least one site address, e.g. https://shop.example.com.', 'origins');
      setOrigins(parsed.origins.join('\n'));
      body.widget = { origins: parsed.origins, strict_identity: strict };
    }
    const res = await action.run(
      () => (channel ? api.updateChannel(channel.id, body) : api.createChannel({ kind, ...body })),
      { pending: channel ? 'Saving…' : 'Adding the channel…', done: channel ? 'Channel saved.' : 'Channel added.' },
    );
    if (res.ok) onSaved(res.value, !channel);
  }

  return html`<form class="card form-card" id="channel-form" onSubmit=${submit} noValidate>
    <h2>${channel ? html`Edit channel “${channel.name}”` : 'Add a channel'}</h2>
    ${channel ? null : html`<label class="field field-narrow">
      <span>Type</span>
      <select id="channel-kind" value=${kind} onChange=${(e) => { action.reset(); setKind(e.currentTarget.value); }}
        aria-invalid=${inv(action, 'kind')}>
        ${KINDS.map((k) => html`<option key=${k.value} value=${k.value}>${k.label}</option>`)}
      </select>
    </label>`}
    ${channel ? null : widget
      ? html`<p class="hint">A website chat is the chat button on your site. After adding it, paste its embed code from Settings › Widget and chat into your pages.</p>`
      : html`<p class="hint">An API channel lets your own systems post client messages; replies are available through the API.</p>`}
    <div class="form-grid">
      <label class="field">
        <span>Name</span>
        <input id="channel-name" type="text" autocomplete="off" value=${name}
          onInput=${(e) => setName(e.currentTarget.value)} aria-invalid=${inv(action, 'name')} />
      </label>
      <label class="field">
        <span>Department <span class="muted">(optional)</span></span>
        <select id="channel-department" value=${dep} onChange=${(e) => setDep(e.currentTarget.value)} aria-invalid=${inv(action, 'department_id')}>
          <option value="">None</option>
          ${departments.map((d) => html`<option key=${d.id} value=${String(d.id)}>${d.name}</option>`)}
        </select>
      </label>
      <label class="field">
        <span>Group <span class="muted">(optional, serves its requests)</span></span>
        <select id="channel-group" value=${group} onChange=${(e) => setGroup(e.currentTarget.value)} aria-invalid=${inv(action, 'group_id')}>
          <option value="">None — any agent with the queue right</option>
          ${groups.map((g) => html`<option key=${g.id} value=${String(g.id)}>${g.name}</option>`)}
        </select>
      </label>
    </div>
    ${widget ? html`<label class="field">
      <span>Allowed sites</span>
      <textarea id="channel-origins" rows="3" spellcheck="false" autocomplete="off" placeholder="https://shop.example.com"
        value=${origins} onInput=${(e) => setOrigins(e.currentTarget.value)}
        aria-invalid=${inv(action, 'origins', 'widget.origins', 'widget')} aria-describedby="channel-origins-hint"></textarea>
      <small class="hint" id="channel-origins-hint">One site address a line, with http:// or https:// (and the port, if any). The widget only works on these sites.</small>
    </label>
    <label class="check">
      <input id="channel-strict" type="checkbox" checked=${strict} onChange=${(e) => setStrict(e.currentTarget.checked)}
        aria-invalid=${inv(action, 'strict_identity', 'widget.strict_identity')} />
      <span>Strict identity (refuse unverified emails)
        <small class="hint">An email passed without a valid data-user-hash is refused; anonymous visitors can still chat.</small></span>
    </label>` : null}
    <div class="form-actions">
      <button id=${channel ? 'channel-save' : 'channel-create'} type="submit" class="btn btn-primary" disabled=${action.busy}>
        ${action.busy ? 'Saving…' : channel ? 'Save channel' : 'Add channel'}
      </button>
      ${channel ? html`<button id="channel-cancel" type="button" class="btn btn-ghost" onClick=${onCancel}>Cancel</button>` : null}
      <${Status} action=${action} id="channel-form-status" />
    </div>
  </form>`;
}

// IdentitySecret is a website chat's secret: hidden until "Show", with a
// rotation that shows the new secret.
function IdentitySecret({ channel, onChannel }) {
  const action = useAction();
  const [shown, setShown] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [fresh, setFresh] = useState('');
  const secret = (channel.widget && channel.widget.identity_secret) || '';
  const idp = `channel-${channel.id}`;

  async function rotate() {
    setConfirming(false);
    setFresh('');
    const res = await action.run(() => api.rotateChannelToken(channel.id),
      { pending: 'Creating a new secret…', done: 'New secret created; hashes made with the old one no longer verify.' });
    if (res.ok && res.value && res.value.token) {
      setShown(false);
      setFresh(res.value.token);
      onChannel({ ...channel, widget: { ...(channel.widget || {}), identity_secret: res.value.token } });
    }
  }

  return html`<div class="secret-box">
    <div class="secret-row">
      <span class="detail-label">Identity secret</span>
      ${fresh ? null : html`<code id=${`${idp}-secret`} class=${`channel-secret${shown ? '' : ' secret-masked'}`}>
        ${shown ? secret || 'None yet — rotate to create one.' : '••••••••••••••••'}</code>
      <button type="button" class="btn btn-small" data-action=${shown ? 'hide-secret' : 'show-secret'}
        aria-expanded=${shown ? 'true' : 'false'} aria-controls=${`${idp}-secret`}
        onClick=${() => setShown(!shown)}>${shown ? 'Hide' : 'Show'}</button>
      ${shown && secret ? html`<${CopyButton} value=${secret} />` : null}`}
      ${confirming ? html`<span class="confirm">
          <span>Rotate? Your site must switch to the new secret.</span>
          <button type="button" class="btn btn-small btn-danger" data-action="confirm-rotate" disabled=${action.busy} onClick=${rotate}>Rotate</button>
          <button type="button" class="btn btn-small btn-ghost" data-action="cancel-rotate" onClick=${() => setConfirming(false)}>Cancel</button>
        </span>`
        : html`<button type="button" class="btn btn-small" data-action="rotate-secret" disabled=${action.busy}
          onClick=${() => { action.reset(); setConfirming(true); }}>Rotate</button>`}
    </div>
    ${fresh ? html`<${OneTimeSecret} id=${`${idp}-new-secret`} className="channel-new-secret" value=${fresh}
      note="The new identity secret. Put it on your site's server now; the old one no longer works."
      onDismiss=${() => { setFresh(''); action.reset(); }} />` : null}
    <p class="hint">Your site's server uses this secret to compute data-user-hash (HMAC-SHA256 of the visitor's email), which marks the email as verified.</p>
    <${Status} action=${action} className="row-status" />
  </div>`;
}

// WidgetDetails is the line under a website chat's row.
function WidgetDetails({ channel, onChannel }) {
  const w = channel.widget || {};
  return html`<div class="channel-detail">
    <div class="detail-line">
      <span class="detail-label">Sites</span>
      <span class="channel-origins">${(w.origins || []).length
        ? w.origins.map((o) => html`<code class="badge" key=${o}>${o}</code>`)
        : html`<span class="muted">none — the widget works nowhere until you add a site</span>`}</span>
      <span class="detail-label">Strict identity</span>
      <span class="channel-strict-state">${w.strict_identity ? 'On' : 'Off'}</span>
      <a href="#/settings/widget" class="detail-link" onClick=${() => preferWidgetChannel(channel.id)}>Embed code and appearance</a>
    </div>
    <${IdentitySecret} channel=${channel} onChannel=${onChannel} />
  </div>`;
}

function ChannelRow({ channel, depName, groupName, editing, onEdit, onChannel, onRemoved }) {
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const [token, setToken] = useState('');
  const busy = action.busy;

  async function toggle() {
    const res = await action.run(() => api.updateChannel(channel.id, { active: !channel.active }),
      channel.active ? { pending: 'Disabling…', done: 'Channel disabled: it accepts no messages.' } : { pending: 'Enabling…', done: 'Channel enabled.' });
    if (res.ok) onChannel(res.value);
  }
  async function rotate() {
    setToken('');
    const res = await action.run(() => api.rotateChannelToken(channel.id), { pending: 'Creating a new token…', done: 'New token created; the old one no longer works.' });
    if (res.ok && res.value) setToken(res.value.token);
  }
  async function remove() {
    const res = await action.run(() => api.deleteChannel(channel.id), { pending: 'Removing…', done: '' });
    setConfirming(false);
    if (res.ok) onRemoved(channel);
  }

  const widget = channel.kind === 'widget';
  const panel = widget || token || busy || action.error || action.message;
  return html`
    <tr data-channel-id=${channel.id} data-channel-name=${channel.name} class=${`${channel.active ? '' : 'row-inactive'} ${editing ? 'row-editing' : ''}`}>
      <td class="cell-name">${channel.name}</td>
      <td>${channelKindLabel(channel.kind)}</td>
      <td>${depName || html`<span class="muted">—</span>`}</td>
      <td>${groupName || html`<span class="muted">—</span>`}</td>
      <td>${channel.active
        ? html`<span class="badge badge-ok channel-state">Active</span>`
        : html`<span class="badge badge-off channel-state">Disabled</span>`}</td>
      <${RowActions} question="Remove this channel? Its requests stay." label="Remove" busy=${busy} confirming=${confirming}
        onAskDelete=${() => { action.reset(); setConfirming(true); }}
        onCancelDelete=${() => setConfirming(false)}
        onDelete=${remove}>
        <button type="button" class="btn btn-small" data-action="edit" disabled=${busy} onClick=${onEdit}>Edit</button>
        <button type="button" class="btn btn-small" data-action=${channel.active ? 'disable' : 'enable'} disabled=${busy} onClick=${toggle}>
          ${channel.active ? 'Disable' : 'Enable'}</button>
        ${channel.kind === 'api' ? html`<button type="button" class="btn btn-small" data-action="rotate-token" disabled=${busy} onClick=${rotate}>Rotate token</button>` : null}
      <//>
    </tr>
    ${panel ? html`<tr class="row-panel" data-channel-panel=${channel.id}>
      <td colspan="6">
        ${widget ? html`<${WidgetDetails} channel=${channel} onChannel=${onChannel} />` : null}
        ${token ? html`<${TokenBox} channelId=${channel.id} token=${token} idPrefix=${`channel-${channel.id}`}
          onDismiss=${() => { setToken(''); action.reset(); }} />` : null}
        <${Status} action=${action} className="row-status" />
      </td>
    </tr>` : null}
  `;
}

export function ChannelsPage() {
  const [departments, setDepartments] = useState([]);
  const [groups, setGroups] = useState([]);
  const channels = useList(async () => {
    const [c, d, g] = await Promise.all([
      api.listChannels(), api.listDepartments().catch(() => []), api.listGroups().catch(() => []),
    ]);
    setDepartments(d);
    setGroups(g);
    return c;
  });
  const [editing, setEditing] = useState(null);
  const [created, setCreated] = useState(null); // {channel, token}
  const [formSeq, setFormSeq] = useState(0);
  const [notice, setNotice] = useState('');
  const formAction = useAction();

  const depName = (id) => (departments.find((d) => d.id === id) || {}).name;
  const groupName = (id) => (groups.find((g) => g.id === id) || {}).name;
  const onChannel = (c) => channels.setItems((list) => (list || []).map((x) => (x.id === c.id ? c : x)));

  function saved(value, isNew) {
    if (isNew) {
      channels.setItems((list) => [...(list || []), value.channel]);
      setCreated(value);
    } else {
      onChannel(value);
    }
    setEditing(null);
    setFormSeq((n) => n + 1);
  }

  return html`<div class="admin-page" id="settings-channels">
    <${ListBody} list=${channels} loading="Loading channels…" emptyId="channels-empty"
      empty="No channels connected. Add a website chat or an API channel below; messenger channels come in a later version.">
      ${(items) => html`<table class="table" id="channels-table">
        <thead><tr><th>Name</th><th>Type</th><th>Department</th><th>Group</th><th>State</th>
          <th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${items.map((c) => html`<${ChannelRow} key=${c.id} channel=${c}
            depName=${depName(c.department_id)} groupName=${groupName(c.group_id)}
            editing=${editing && editing.id === c.id}
            onEdit=${() => { formAction.reset(); setEditing(c); }}
            onChannel=${onChannel}
            onRemoved=${(ch) => { channels.setItems((list) => list.filter((x) => x.id !== ch.id)); setNotice(`Channel “${ch.name}” removed.`); }} />`)}
        </tbody>
      </table>`}
    <//>
    ${notice ? html`<p class="status status-ok" id="channels-status" role="status">${notice}</p>` : null}
    ${created ? html`<div class="card" id="channel-created">
      <h2>Channel “${created.channel.name}” added</h2>
      ${created.channel.kind === 'widget' ? html`<div class="created">
        <p>Next, paste the embed code into every page of your site: find it, with the look of the chat, in <a href="#/settings/widget" id="channel-created-widget-link" onClick=${() => preferWidgetChannel(created.channel.id)}>Settings › Widget and chat</a>.</p>
        <div class="form-actions"><button type="button" class="btn btn-small btn-ghost" onClick=${() => setCreated(null)}>Done</button></div>
      </div>`
        : html`<${TokenBox} channelId=${created.channel.id} token=${created.token} idPrefix="channel" onDismiss=${() => setCreated(null)} />`}
    </div>` : null}
    ${channels.items ? html`<${ChannelForm} key=${editing ? `edit-${editing.id}` : `new-${formSeq}`} channel=${editing}
      departments=${departments} groups=${groups} action=${formAction} onSaved=${saved}
      onCancel=${() => { formAction.reset(); setEditing(null); }} />` : null}
  </div>`;
}
