// Settings › Channels: connected channels. Website chats (widget), API
// channels and messengers (Telegram, WhatsApp) can be added here, edited,
// disabled and removed; an API channel's token is shown once, a website
// chat's identity secret on demand. A messenger is connected with the fields
// its platform asks for (GET /platforms); its secrets are never shown again.
import { useEffect, useState } from 'preact/hooks';
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
  { value: 'telegram', label: 'Telegram' },
  { value: 'whatsapp', label: 'WhatsApp' },
  { value: 'messenger', label: 'Facebook Messenger' },
  { value: 'instagram', label: 'Instagram Direct' },
  { value: 'viber', label: 'Viber' },
  { value: 'vk', label: 'VK' },
  { value: 'ok', label: 'OK' },
];
export const channelKindLabel = (kind) => (kind === 'widget' ? 'Website chat' : kindLabel(kind));

// isMessenger: replies on these kinds go out to a messaging platform, which
// reaches Switchboard on the channel's webhook.
const isMessenger = (kind) => !!kind && kind !== 'api' && kind !== 'widget';

// MESSENGERS holds what the page says about each platform: the form's
// introduction, the public account values shown ([key, label]) and the hint
// under the webhook URL.
const MESSENGERS = {
  telegram: {
    intro: 'Connects a Telegram bot: create it with @BotFather, then paste its token. Switchboard checks the token with Telegram and registers the bot\'s webhook.',
    account: [['bot_name', 'Bot'], ['bot_username', 'Username']],
    hook: 'Switchboard registered this webhook with Telegram.',
  },
  whatsapp: {
    intro: 'Connects a WhatsApp Business number of the WhatsApp Cloud API (a Meta app). Switchboard checks the number with Meta; after adding it, paste the webhook URL into the Meta app.',
    account: [['display_phone_number', 'Number'], ['verified_name', 'Verified name'], ['phone_number_id', 'Phone number ID']],
    hook: 'Paste this URL and your verify token into the Meta app\'s WhatsApp webhook settings (subscribe to messages).',
  },
  messenger: {
    intro: 'Connects a Facebook Page of a Meta app: its page id, a page access token, the app secret and a verify token of your choice. Switchboard checks them with Meta and subscribes the Page.',
    account: [['page_name', 'Page'], ['page_id', 'Page ID'], ['subscription_warning', 'Note']],
    hook: 'Paste this URL and your verify token into the Meta app (Messenger → Webhooks; subscribe to messages, message_deliveries, message_reads, messaging_postbacks).',
  },
  instagram: {
    intro: 'Connects an Instagram professional account linked to a Facebook Page: the account or Page id, a page access token, the app secret and a verify token of your choice.',
    account: [['username', 'Account'], ['page_name', 'Page'], ['instagram_account_id', 'Instagram ID']],
    hook: 'Paste this URL and your verify token into the Meta app (Webhooks → Instagram; subscribe to messages, messaging_seen, messaging_postbacks).',
  },
  viber: {
    intro: 'Connects a Viber bot: paste its token from the Viber admin panel. Switchboard checks it and registers the webhook (the public URL must be HTTPS).',
    account: [['bot_name', 'Bot'], ['bot_uri', 'URI'], ['sender_name', 'Sender name']],
    hook: 'Switchboard registered this webhook with Viber.',
  },
  vk: {
    intro: 'Connects a VK community: its id, a community access token with the messages right, and the confirmation string and secret key from Callback API settings.',
    account: [['group_name', 'Community'], ['group_screen_name', 'Address'], ['group_id', 'Community ID']],
    hook: 'Paste this URL into the community\'s Callback API settings (version 5.199, your secret key; events message_new, message_edit, message_read, message_allow, message_deny) and press Confirm.',
  },
  ok: {
    intro: 'Connects an OK group bot: paste the group\'s bot token. Switchboard checks it and subscribes its webhook at a secret address of its own (OK signs nothing, so the address is the secret).',
    account: [['group_name', 'Group'], ['group_url', 'Link'], ['group_id', 'Group ID']],
    hook: 'Switchboard subscribed a secret webhook address of this channel with OK; it is not shown.',
  },
};

// sentence starts a platform's text (help, messages) with a capital letter.
const sentence = (text) => { const t = String(text || ''); return t.charAt(0).toUpperCase() + t.slice(1); };

// accountField names the connection field an error is about ("account.bot_token"
// or "bot_token" → "bot_token"), or '' when the error is not about one of fields.
function accountField(error, fields) {
  if (!error || !error.field || !fields) return '';
  const name = error.field.startsWith('account.') ? error.field.slice('account.'.length) : error.field;
  return fields.some((f) => f.name === name) ? name : '';
}

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

// MessengerDetails shows a messenger channel's public account values and its
// webhook URL (idPrefix makes the element ids unique on the page).
function MessengerDetails({ channel, idPrefix }) {
  const about = MESSENGERS[channel.kind] || {};
  const account = channel.account || {};
  const shown = about.account || Object.keys(account).sort().map((k) => [k, k.replace(/_/g, ' ')]);
  const value = (key) => {
    const v = account[key];
    if (!v) return html`<span class="muted">—</span>`;
    if (key === 'bot_username') {
      return html`<a href=${`https://t.me/${encodeURIComponent(v)}`} target="_blank" rel="noopener noreferrer">@${v}</a>`;
    }
    return v;
  };
  return html`<div class="channel-detail messenger-detail" data-messenger=${channel.kind}>
    ${shown.length ? html`<div class="detail-line channel-account">
      ${shown.map(([key, label]) => html`<span class="detail-label" key=${`l-${key}`}>${label}</span>
        <span class="channel-account-value" key=${`v-${key}`} data-account=${key}>${value(key)}</span>`)}
    </div>` : null}
    ${channel.webhook_url ? html`<div class="detail-line">
      <span class="detail-label">Webhook URL</span>
      <code id=${`${idPrefix}-webhook-url`} class="channel-webhook-url">${channel.webhook_url}</code>
      <${CopyButton} value=${channel.webhook_url} id=${`${idPrefix}-webhook-copy`} className="channel-webhook-copy" />
    </div>
    ${about.hook ? html`<p class="hint channel-webhook-hint">${about.hook}</p>` : null}` : null}
  </div>`;
}

// AccountFields renders a messenger's connection fields as its platform
// describes them. Secrets are password inputs; when editing they start empty
// and keep their value unless something is typed.
function AccountFields({ fields, values, editing, errorName, errorMessage, onChange }) {
  return html`<div class="form-grid account-fields">
    ${fields.map((f) => {
      const fid = `channel-account-${f.name}`;
      const bad = errorName === f.name;
      const described = [f.help ? `${fid}-hint` : '', bad ? `${fid}-error` : ''].filter(Boolean).join(' ');
      return html`<label class="field" key=${f.name} data-account-field=${f.name}>
        <span>${f.label || f.name}${f.required ? null : html` <span class="muted">(optional)</span>`}</span>
        <input id=${fid} name=${f.name} type=${f.secret ? 'password' : 'text'} autocomplete="off" spellcheck="false"
          value=${values[f.name] || ''} placeholder=${f.secret && editing ? 'unchanged — type to replace' : undefined}
          onInput=${(e) => onChange(f.name, e.currentTarget.value)}
          aria-invalid=${bad ? 'true' : undefined} aria-describedby=${described || undefined} />
        ${f.help ? html`<small class="hint" id=${`${fid}-hint`}>${sentence(f.help)}</small>` : null}
        ${bad ? html`<small class="field-error" id=${`${fid}-error`} role="alert">${sentence(errorMessage)}</small>` : null}
      </label>`;
    })}
  </div>`;
}

function ChannelForm({ channel, departments, groups, platforms, action, onSaved, onCancel }) {
  const [kind, setKind] = useState(channel ? channel.kind : 'api');
  const [name, setName] = useState(channel ? channel.name : '');
  const [dep, setDep] = useState(channel && channel.department_id ? String(channel.department_id) : '');
  const [group, setGroup] = useState(channel && channel.group_id ? String(channel.group_id) : '');
  const w = (channel && channel.widget) || {};
  const [origins, setOrigins] = useState((w.origins || []).join('\n'));
  const [strict, setStrict] = useState(!!w.strict_identity);
  const widget = kind === 'widget';
  const messenger = isMessenger(kind);
  const platformLabel = channelKindLabel(kind);
  // A messenger's connection fields: null while unknown (still loading, or
  // the platforms could not be read), [] when this server lacks the platform.
  const fields = messenger && platforms && platforms.fields ? platforms.fields[kind] || [] : null;
  const [account, setAccount] = useState(() => {
    const a = (channel && channel.account) || {};
    return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, String(v)]));
  });
  const [connecting, setConnecting] = useState(false);
  const errorName = messenger ? accountField(action.error, fields) : '';

  // A refused field gets the focus, so it can be corrected at once.
  useEffect(() => {
    if (!errorName) return;
    const el = document.getElementById(`channel-account-${errorName}`);
    if (el) el.focus();
  }, [action.error, errorName]);

  // accountPatch collects the typed connection fields ({error} when a
  // required one is empty). Editing sends only what changed.
  function accountPatch() {
    const before = (channel && channel.account) || {};
    const out = {};
    for (const f of fields || []) {
      const v = String(account[f.name] || '').trim();
      const keep = channel && f.secret; // an empty secret keeps its value
      if (f.required && !v && !keep) return { error: `${sentence(f.label || f.name)} is required.`, field: `account.${f.name}` };
      if (channel ? v && v !== String(before[f.name] || '') : v) out[f.name] = v;
    }
    return { account: out };
  }

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
    if (messenger && !channel) {
      if (!fields) return action.fail(platforms && platforms.error ? platforms.error.message : 'The connection fields are still loading; try again in a moment.');
      if (!fields.length) return action.fail(`This server cannot connect ${platformLabel} channels.`, 'kind');
    }
    if (messenger && fields && fields.length) {
      const patch = accountPatch();
      if (patch.error) return action.fail(patch.error, patch.field);
      if (!channel || Object.keys(patch.account).length) body.account = patch.account;
    }
    // Sending an account makes the server check it with the platform, which
    // can take a few seconds.
    const checking = !!body.account;
    setConnecting(checking);
    const res = await action.run(
      () => (channel ? api.updateChannel(channel.id, body) : api.createChannel({ kind, ...body })),
      {
        pending: checking ? `Connecting to ${platformLabel}…` : channel ? 'Saving…' : 'Adding the channel…',
        done: channel ? (checking ? `Channel saved; ${platformLabel} accepted the account.` : 'Channel saved.') : 'Channel added.',
      },
    );
    setConnecting(false);
    if (res.ok) onSaved(res.value, !channel);
  }

  // Messenger forms show a refused field's error next to it and any other
  // error at the top; the line by the button then tells only the progress.
  const topError = messenger && action.error && !errorName ? action.error : null;
  const statusAction = messenger ? { ...action, error: null } : action;

  return html`<form class="card form-card" id="channel-form" onSubmit=${submit} noValidate>
    <h2>${channel ? html`Edit channel “${channel.name}”` : 'Add a channel'}</h2>
    ${topError ? html`<p class="status status-error" id="channel-form-error" role="alert">${sentence(topError.message)}</p>` : null}
    ${channel ? null : html`<label class="field field-narrow">
      <span>Type</span>
      <select id="channel-kind" value=${kind} onChange=${(e) => { action.reset(); setKind(e.currentTarget.value); }}
        aria-invalid=${inv(action, 'kind')}>
        ${KINDS.map((k) => html`<option key=${k.value} value=${k.value}>${k.label}</option>`)}
      </select>
    </label>`}
    ${channel ? null : widget
      ? html`<p class="hint">A website chat is the chat button on your site. After adding it, paste its embed code from Settings › Widget and chat into your pages.</p>`
      : messenger
        ? html`<p class="hint" id="channel-kind-hint">${(MESSENGERS[kind] || {}).intro || `Connects a ${platformLabel} account.`}</p>`
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
    ${messenger ? html`<fieldset class="checks account-box" id="channel-account">
      <legend>${platformLabel} account</legend>
      ${fields && fields.length ? html`<${AccountFields} fields=${fields} values=${account} editing=${!!channel}
          errorName=${errorName} errorMessage=${action.error ? action.error.message : ''}
          onChange=${(name, v) => setAccount((a) => ({ ...a, [name]: v }))} />`
        : fields ? html`<p class="status status-error" id="channel-platform-missing">This server cannot connect ${platformLabel} channels.</p>`
        : platforms && platforms.error ? html`<p class="status status-error" id="channel-platform-error" role="alert">The connection fields could not be loaded: ${platforms.error.message}</p>`
        : html`<p class="muted" role="status">Loading the connection fields…</p>`}
      ${channel && fields && fields.some((f) => f.secret) ? html`<p class="hint">Leave a secret empty to keep it; changing the account checks it with ${platformLabel} again.</p>` : null}
    </fieldset>` : null}
    <div class="form-actions">
      <button id=${channel ? 'channel-save' : 'channel-create'} type="submit" class="btn btn-primary" disabled=${action.busy}
        aria-busy=${action.busy ? 'true' : undefined}>
        ${action.busy ? (connecting ? 'Connecting…' : 'Saving…') : channel ? 'Save channel' : 'Add channel'}
      </button>
      ${channel ? html`<button id="channel-cancel" type="button" class="btn btn-ghost" disabled=${action.busy} onClick=${onCancel}>Cancel</button>` : null}
      <${Status} action=${statusAction} id="channel-form-status" />
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
  const messenger = isMessenger(channel.kind);
  const panel = widget || messenger || token || busy || action.error || action.message;
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
        ${messenger ? html`<${MessengerDetails} channel=${channel} idPrefix=${`channel-${channel.id}`} />` : null}
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
  const [platforms, setPlatforms] = useState(null); // {fields} or {error}
  const channels = useList(async () => {
    const [c, d, g, p] = await Promise.all([
      api.listChannels(), api.listDepartments().catch(() => []), api.listGroups().catch(() => []),
      api.listPlatforms().then((fields) => ({ fields }), (error) => ({ error })),
    ]);
    setDepartments(d);
    setGroups(g);
    setPlatforms(p);
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
      empty="No channels connected. Add a website chat, a Telegram bot, a WhatsApp number or an API channel below.">
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
        : isMessenger(created.channel.kind) ? html`<div class="created">
        <p>Connected to ${channelKindLabel(created.channel.kind)}. New client messages arrive in the ${channelKindLabel(created.channel.kind)} tab.</p>
        <${MessengerDetails} channel=${created.channel} idPrefix="channel-created" />
        <div class="form-actions"><button type="button" class="btn btn-small btn-ghost" onClick=${() => setCreated(null)}>Done</button></div>
      </div>`
        : html`<${TokenBox} channelId=${created.channel.id} token=${created.token} idPrefix="channel" onDismiss=${() => setCreated(null)} />`}
    </div>` : null}
    ${channels.items ? html`<${ChannelForm} key=${editing ? `edit-${editing.id}` : `new-${formSeq}`} channel=${editing}
      departments=${departments} groups=${groups} platforms=${platforms} action=${formAction} onSaved=${saved}
      onCancel=${() => { formAction.reset(); setEditing(null); }} />` : null}
  </div>`;
}
