// Administration › Statuses: the request statuses, in order, each of a class
// (new, open, waiting, closed) the product logic understands.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { statuses as statusStore } from '../directory.js';
import { ListBody, RowActions, useList } from '../listing.js';
import { Status, inv, useAction } from '../ui.js';

export const CLASSES = [
  { value: 'new', label: 'New', hint: 'new requests get the default one' },
  { value: 'open', label: 'Open', hint: 'taking a request sets the default one' },
  { value: 'waiting', label: 'Waiting', hint: 'waiting for the client' },
  { value: 'closed', label: 'Closed', hint: 'closes the request; Close sets the default one' },
];
const classLabel = (c) => (CLASSES.find((x) => x.value === c) || { label: c }).label;

function ClassSelect({ id, value, onChange, invalid }) {
  return html`<select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)} aria-invalid=${invalid}>
    ${CLASSES.map((c) => html`<option key=${c.value} value=${c.value}>${c.label}</option>`)}
  </select>`;
}

function CreateStatusForm({ onCreated }) {
  const action = useAction();
  const [name, setName] = useState('');
  const [cls, setCls] = useState('open');

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    if (!name.trim()) return action.fail('Enter a name.', 'name');
    const res = await action.run(() => api.createStatus({ name: name.trim(), class: cls }), { done: 'Status created.' });
    if (!res.ok) return;
    setName('');
    onCreated(res.value);
  }

  return html`<form class="card form-card" id="status-form" onSubmit=${submit} noValidate>
    <h2>New status</h2>
    <div class="form-grid">
      <label class="field">
        <span>Name</span>
        <input id="status-name" type="text" autocomplete="off" value=${name}
          onInput=${(e) => setName(e.currentTarget.value)} aria-invalid=${inv(action, 'name')} />
      </label>
      <label class="field">
        <span>Class</span>
        <${ClassSelect} id="status-class" value=${cls} onChange=${setCls} invalid=${inv(action, 'class')} />
        <small class="hint">${(CLASSES.find((c) => c.value === cls) || {}).hint}</small>
      </label>
    </div>
    <div class="form-actions">
      <button id="status-create" type="submit" class="btn btn-primary" disabled=${action.busy}>
        ${action.busy ? 'Creating…' : 'Create status'}
      </button>
      <${Status} action=${action} id="status-create-status" />
    </div>
  </form>`;
}

function EditStatusForm({ status, action, onSaved, onCancel }) {
  const [name, setName] = useState(status.name);
  const [cls, setCls] = useState(status.class);

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    const patch = {};
    if (name.trim() !== status.name) patch.name = name.trim();
    if (cls !== status.class) patch.class = cls;
    if (!Object.keys(patch).length) return onCancel();
    const res = await action.run(() => api.updateStatus(status.id, patch), { done: 'Status saved.' });
    if (res.ok) onSaved(res.value);
  }

  return html`<form class="inline-form" onSubmit=${submit} noValidate>
    <label class="field">
      <span>Name</span>
      <input id="edit-status-name" type="text" value=${name} onInput=${(e) => setName(e.currentTarget.value)}
        aria-invalid=${inv(action, 'name')} />
    </label>
    <label class="field">
      <span>Class</span>
      <${ClassSelect} id="edit-status-class" value=${cls} onChange=${setCls} invalid=${inv(action, 'class')} />
    </label>
    <div class="form-actions">
      <button id="edit-status-save" type="submit" class="btn btn-primary btn-small" disabled=${action.busy}>Save</button>
      <button type="button" class="btn btn-ghost btn-small" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

function StatusRow({ status, first, last, editing, confirming, busy, onEdit, onSaved, onCancelEdit, onDefault, onMove, onAskDelete, onCancelDelete, onDelete }) {
  const action = useAction();
  return html`
    <tr data-status-name=${status.name} data-status-id=${status.id} class=${editing ? 'row-editing' : ''}>
      <td class="cell-count">${status.position}</td>
      <td class="cell-name">${status.name}</td>
      <td><span class="status-pill status-${status.class} status-class">${classLabel(status.class)}</span></td>
      <td>${status.is_default ? html`<span class="badge badge-admin status-default">Default</span>` : null}</td>
      <${RowActions} question="Delete this status?" busy=${busy} confirming=${confirming}
        onAskDelete=${onAskDelete} onCancelDelete=${onCancelDelete} onDelete=${onDelete}>
        <button type="button" class="btn btn-small btn-ghost" data-action="up" aria-label="Move up" title="Move up"
          disabled=${busy || first} onClick=${() => onMove(-1)}>↑</button>
        <button type="button" class="btn btn-small btn-ghost" data-action="down" aria-label="Move down" title="Move down"
          disabled=${busy || last} onClick=${() => onMove(1)}>↓</button>
        <button type="button" class="btn btn-small" data-action="edit" disabled=${busy} onClick=${() => { action.reset(); onEdit(); }}>Edit</button>
        ${status.is_default ? null : html`<button type="button" class="btn btn-small" data-action="make-default" disabled=${busy}
          onClick=${onDefault}>Make default</button>`}
      <//>
    </tr>
    ${editing ? html`<tr class="row-panel" data-status-panel=${status.id}>
      <td colspan="5">
        <${EditStatusForm} status=${status} action=${action} onSaved=${onSaved} onCancel=${() => { action.reset(); onCancelEdit(); }} />
        <${Status} action=${action} className="row-status" />
      </td>
    </tr>` : null}
  `;
}

export function StatusesPage() {
  const statuses = useList(() => api.listStatuses());
  const [editing, setEditing] = useState(null);
  const [confirmId, setConfirmId] = useState(null);
  const listAction = useAction();

  // After any change the whole list is read again: making one status the
  // default changes another, and the chat views share the list.
  async function refresh() {
    const fresh = await statusStore.reload();
    if (fresh) statuses.setItems(fresh);
  }

  async function makeDefault(s) {
    const res = await listAction.run(() => api.updateStatus(s.id, { is_default: true }), { pending: 'Saving…', done: `“${s.name}” is now the default ${classLabel(s.class)} status.` });
    if (res.ok) refresh();
  }

  async function move(index, delta) {
    const order = [...statuses.items];
    const [s] = order.splice(index, 1);
    order.splice(index + delta, 0, s);
    const changes = order.map((x, i) => ({ x, position: i + 1 })).filter(({ x, position }) => x.position !== position);
    const res = await listAction.run(async () => {
      for (const { x, position } of changes) await api.updateStatus(x.id, { position });
    }, { pending: 'Reordering…', done: 'Order saved.' });
    if (res.ok || changes.length) refresh();
  }

  async function remove(s) {
    const res = await listAction.run(() => api.deleteStatus(s.id), { pending: 'Deleting…', done: `Status “${s.name}” deleted.` });
    setConfirmId(null);
    if (res.ok) refresh();
  }

  return html`<div class="admin-page" id="admin-statuses">
    <p class="intro muted">Agents set these statuses on requests. Each belongs to a class; the default of a class is used automatically (new requests, taking a request, closing).</p>
    <${ListBody} list=${statuses} loading="Loading statuses…" empty="No statuses.">
      ${(items) => html`<table class="table" id="statuses-table">
        <thead><tr><th>#</th><th>Name</th><th>Class</th><th>Default</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${items.map((s, i) => html`<${StatusRow} key=${s.id} status=${s} first=${i === 0} last=${i === items.length - 1}
            editing=${editing === s.id} confirming=${confirmId === s.id} busy=${listAction.busy}
            onEdit=${() => { setConfirmId(null); setEditing(s.id); }}
            onSaved=${() => { setEditing(null); refresh(); }}
            onCancelEdit=${() => setEditing(null)}
            onDefault=${() => makeDefault(s)}
            onMove=${(d) => move(i, d)}
            onAskDelete=${() => { listAction.reset(); setEditing(null); setConfirmId(s.id); }}
            onCancelDelete=${() => setConfirmId(null)}
            onDelete=${() => remove(s)} />`)}
        </tbody>
      </table>`}
    <//>
    <${Status} action=${listAction} id="statuses-status" />
    ${statuses.items ? html`<${CreateStatusForm} onCreated=${() => refresh()} />` : null}
  </div>`;
}
