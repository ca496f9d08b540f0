// The client panel beside a chat: contact details (editable by whoever
// works the request), channel links, custom fields and previous requests.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import * as api from './api.js';
import { agentName, agents, customFields, statusOf, statuses, useResource } from './directory.js';
import { dateTime, safeURL } from './format.js';
import { kindLabel } from './nav.js';

// InlineField is an input that saves itself on Enter or when it loses focus.
function InlineField({ id, label, type = 'text', value, editable, onSave, placeholder }) {
  const [draft, setDraft] = useState(value || '');
  useEffect(() => setDraft(value || ''), [value]);

  function commit() {
    if (draft.trim() !== (value || '')) onSave(draft.trim());
  }
  function onKeyDown(e) {
    if (e.key === 'Enter') {
      e.preventDefault();
      e.currentTarget.blur();
    } else if (e.key === 'Escape') {
      setDraft(value || '');
    }
  }

  return html`<div class="cp-row">
    <label class="cp-label" for=${id}>${label}</label>
    ${editable
      ? html`<input id=${id} class="inline-input" type=${type} value=${draft} placeholder=${placeholder || '—'}
          onInput=${(e) => setDraft(e.currentTarget.value)} onBlur=${commit} onKeyDown=${onKeyDown} />`
      : html`<span id=${id} class="cp-value">${value || html`<span class="muted">—</span>`}</span>`}
  </div>`;
}

function CustomFieldInput({ field, value, editable, onSave }) {
  const id = `client-field-${field.id}`;
  const common = { id, 'data-field-id': field.id, disabled: !editable };
  let input;
  switch (field.type) {
    case 'checkbox':
      input = html`<input ...${common} type="checkbox" class="cp-check" checked=${value === 'true'}
        onChange=${(e) => onSave(e.currentTarget.checked ? 'true' : 'false')} />`;
      break;
    case 'select':
      input = html`<select ...${common} class="cp-select" value=${value || ''} onChange=${(e) => onSave(e.currentTarget.value)}>
        <option value="">—</option>
        ${(field.options || []).map((o) => html`<option key=${o} value=${o}>${o}</option>`)}
        ${value && !(field.options || []).includes(value) ? html`<option value=${value}>${value}</option>` : null}
      </select>`;
      break;
    case 'date':
      input = html`<input ...${common} type="date" class="inline-input" value=${value || ''}
        onChange=${(e) => onSave(e.currentTarget.value)} />`;
      break;
    default:
      return html`<${InlineField} id=${id} label=${field.name} type=${field.type === 'number' ? 'number' : 'text'}
        value=${value} editable=${editable} onSave=${onSave} />`;
  }
  return html`<div class="cp-row">
    <label class="cp-label" for=${id}>${field.name}</label>
    ${input}
  </div>`;
}

function Identity({ identity }) {
  const p = identity.profile || {};
  const profile = safeURL(p.url);
  const chat = safeURL(p.chat_url);
  const page = safeURL(p.page_url);
  const referrer = safeURL(p.referrer);
  const avatar = safeURL(p.avatar_url);
  return html`<div class="cp-identity" data-identity-kind=${identity.kind}>
    <div class="cp-row">
      <span class="cp-label">${kindLabel(identity.kind)}</span>
      <span class="cp-value">
        ${avatar ? html`<img class="cp-avatar client-avatar" src=${avatar} alt="" referrerpolicy="no-referrer" />` : null}
        ${p.name || identity.external_id}</span>
    </div>
    ${profile || chat ? html`<div class="cp-links">
      ${profile ? html`<a class="client-profile-link" href=${profile} target="_blank" rel="noopener noreferrer">Profile</a>` : null}
      ${chat ? html`<a class="client-chat-link" href=${chat} target="_blank" rel="noopener noreferrer">Correspondence</a>` : null}
    </div>` : null}
    ${p.page_url ? html`<div class="cp-row"><span class="cp-label">Page</span>
      ${page ? html`<a class="cp-value cp-url client-page-url" href=${page} target="_blank" rel="noopener noreferrer">${p.page_url}</a>`
        : html`<span class="cp-value cp-url client-page-url">${p.page_url}</span>`}</div>` : null}
    ${p.referrer ? html`<div class="cp-row"><span class="cp-label">Referrer</span>
      ${referrer ? html`<a class="cp-value cp-url client-referrer" href=${referrer} target="_blank" rel="noopener noreferrer">${p.referrer}</a>`
        : html`<span class="cp-value cp-url client-referrer">${p.referrer}</span>`}</div>` : null}
    ${p.ip ? html`<div class="cp-row"><span class="cp-label">IP</span><span class="cp-value client-ip">${p.ip}</span></div>` : null}
  </div>`;
}

function PreviousRequests({ conv, onOpen }) {
  const [list, setList] = useState(null);
  const [error, setError] = useState('');
  const statusList = useResource(statuses);
  const agentList = useResource(agents);

  useEffect(() => {
    let alive = true;
    api.previousRequests(conv.id).then((l) => alive && setList(l), (err) => alive && setError(err.message));
    return () => { alive = false; };
  }, [conv.id]);

  if (error) return html`<p class="status status-error" role="alert">${error}</p>`;
  if (!list) return html`<p class="muted" role="status">Loading…</p>`;
  if (!list.length) return html`<p class="muted">No other requests.</p>`;
  return html`<ul class="previous-list" id="previous-requests">
    ${list.map((r) => {
      const st = statusOf(statusList, r.status_id);
      return html`<li key=${r.id} data-previous-id=${r.id}>
        <button type="button" class="previous-item" onClick=${() => onOpen(r.id)} title="Request #${r.id}">
          <span class="previous-top">
            <span class="previous-date">${dateTime(r.created_at)}</span>
            ${st ? html`<span class="status-pill status-${st.class}">${st.name}</span>` : null}
          </span>
          <span class="previous-subject">${r.subject || `Request #${r.id}`}</span>
          <span class="previous-agents muted">
            ${r.assignee_id ? `Agent: ${agentName(agentList, r.assignee_id)}` : 'Unassigned'}
            ${r.previous_assignee_id ? ` · before: ${agentName(agentList, r.previous_assignee_id)}` : ''}
          </span>
        </button>
      </li>`;
    })}
  </ul>`;
}

export function ClientPanel({ conv, editable, onOpenPrevious }) {
  const [client, setClient] = useState(null);
  const [error, setError] = useState(null);
  const [saveState, setSaveState] = useState({ busy: false, error: '', message: '' });
  const [showPrevious, setShowPrevious] = useState(false);
  const fields = useResource(customFields);

  useEffect(() => {
    let alive = true;
    setClient(null);
    setError(null);
    setShowPrevious(false);
    api.getClient(conv.id).then((c) => alive && setClient(c), (err) => alive && setError(err));
    return () => { alive = false; };
  }, [conv.id, conv.client_id]);

  async function save(patch) {
    setSaveState({ busy: true, error: '', message: 'Saving…' });
    try {
      setClient(await api.updateClient(conv.id, patch));
      setSaveState({ busy: false, error: '', message: 'Saved.' });
    } catch (err) {
      setSaveState({ busy: false, error: err.message, message: '' });
    }
  }

  let body;
  if (error) body = html`<p class="status status-error" role="alert">${error.message}</p>`;
  else if (!client) body = html`<p class="muted" role="status">Loading client…</p>`;
  else {
    const values = client.fields || {};
    body = html`
      <${InlineField} id="client-name" label="Name" value=${client.name} editable=${editable} onSave=${(v) => save({ name: v })} />
      <${InlineField} id="client-email" label="Email" type="email" value=${client.email} editable=${editable} onSave=${(v) => save({ email: v })} />
      <${InlineField} id="client-phone" label="Phone" type="tel" value=${client.phone} editable=${editable} onSave=${(v) => save({ phone: v })} />
      <p class=${`status ${saveState.error ? 'status-error' : saveState.busy ? 'status-pending' : 'status-ok'}`}
        id="client-status" role=${saveState.error ? 'alert' : 'status'}>${saveState.error || saveState.message}</p>

      <h3 class="cp-head">Channel</h3>
      ${(client.identities || []).map((i) => html`<${Identity} key=${i.id} identity=${i} />`)}

      <h3 class="cp-head">Request</h3>
      <div class="cp-row"><span class="cp-label">Number</span><span class="cp-value" id="client-request-number">Request #${conv.id}</span></div>
      <div class="cp-row"><span class="cp-label">Opened</span><span class="cp-value">${dateTime(conv.created_at)}</span></div>
      <div class="cp-row"><span class="cp-label">Requests</span><span class="cp-value" id="client-requests">${client.requests}</span></div>

      ${fields && fields.length ? html`<h3 class="cp-head">Fields</h3>
        <div id="client-fields">
          ${fields.map((f) => html`<${CustomFieldInput} key=${f.id} field=${f} value=${values[f.id] || values[String(f.id)] || ''}
            editable=${editable} onSave=${(v) => save({ fields: { [String(f.id)]: v } })} />`)}
        </div>` : null}

      ${client.requests > 1 ? html`<div class="cp-previous">
        <button type="button" class="btn btn-small" id="show-previous" aria-expanded=${showPrevious ? 'true' : 'false'}
          onClick=${() => setShowPrevious(!showPrevious)}>${showPrevious ? 'Hide previous requests' : 'Show previous requests'}</button>
        ${showPrevious ? html`<${PreviousRequests} conv=${conv} onOpen=${onOpenPrevious} />` : null}
      </div>` : null}
    `;
  }

  return html`<aside class="client-panel" id="client-panel" aria-label="Client">
    <h2 class="cp-title">Client</h2>
    ${body}
  </aside>`;
}
