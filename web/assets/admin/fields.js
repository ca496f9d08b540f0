// Administration › Custom fields: extra client fields shown in the client
// panel of every chat.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { customFields } from '../directory.js';
import { ListBody, RowActions, useList } from '../listing.js';
import { Status, inv, useAction } from '../ui.js';

const TYPES = [
  { value: 'text', label: 'Text' },
  { value: 'number', label: 'Number' },
  { value: 'date', label: 'Date' },
  { value: 'select', label: 'List of options' },
  { value: 'checkbox', label: 'Checkbox' },
];
const typeLabel = (t) => (TYPES.find((x) => x.value === t) || { label: t }).label;

function CreateFieldForm({ onCreated }) {
  const action = useAction();
  const [name, setName] = useState('');
  const [type, setType] = useState('text');
  const [options, setOptions] = useState('');

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    if (!name.trim()) return action.fail('Enter a name.', 'name');
    const opts = type === 'select' ? options.split('\n').map((o) => o.trim()).filter(Boolean) : [];
    if (type === 'select' && !opts.length) return action.fail('Enter at least one option, one per line.', 'options');
    const res = await action.run(() => api.createCustomField({ name: name.trim(), type, options: opts }), { done: 'Field created.' });
    if (!res.ok) return;
    setName('');
    setOptions('');
    onCreated(res.value);
  }

  return html`<form class="card form-card" id="field-form" onSubmit=${submit} noValidate>
    <h2>New field</h2>
    <div class="form-grid">
      <label class="field">
        <span>Name</span>
        <input id="field-name" type="text" autocomplete="off" value=${name}
          onInput=${(e) => setName(e.currentTarget.value)} aria-invalid=${inv(action, 'name')} />
      </label>
      <label class="field">
        <span>Type</span>
        <select id="field-type" value=${type} onChange=${(e) => setType(e.currentTarget.value)} aria-invalid=${inv(action, 'type')}>
          ${TYPES.map((t) => html`<option key=${t.value} value=${t.value}>${t.label}</option>`)}
        </select>
      </label>
    </div>
    ${type === 'select' ? html`<label class="field">
      <span>Options <span class="muted">(one per line)</span></span>
      <textarea id="field-options" rows="4" value=${options} onInput=${(e) => setOptions(e.currentTarget.value)}
        aria-invalid=${inv(action, 'options')}></textarea>
    </label>` : null}
    <div class="form-actions">
      <button id="field-create" type="submit" class="btn btn-primary" disabled=${action.busy}>
        ${action.busy ? 'Creating…' : 'Create field'}
      </button>
      <${Status} action=${action} id="field-create-status" />
    </div>
  </form>`;
}

export function FieldsPage() {
  const fields = useList(() => api.listCustomFields());
  const [confirmId, setConfirmId] = useState(null);
  const listAction = useAction();

  function created(f) {
    fields.setItems((l) => [...(l || []), f]);
    customFields.reload();
  }

  async function remove(f) {
    const res = await listAction.run(() => api.deleteCustomField(f.id), { pending: 'Deleting…', done: `Field “${f.name}” deleted.` });
    setConfirmId(null);
    if (!res.ok) return;
    fields.setItems((l) => l.filter((x) => x.id !== f.id));
    customFields.reload();
  }

  return html`<div class="admin-page" id="admin-fields">
    <p class="intro muted">Custom fields describe clients (for example a contract number); agents fill them in the client panel.</p>
    <${ListBody} list=${fields} loading="Loading fields…" emptyId="fields-empty"
      empty="No custom fields yet. Fields created here appear in the client panel of every chat.">
      ${(items) => html`<table class="table" id="fields-table">
        <thead><tr><th>Name</th><th>Type</th><th>Options</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${items.map((f) => html`<tr key=${f.id} data-field-name=${f.name} data-field-id=${f.id}>
            <td class="cell-name">${f.name}</td>
            <td>${typeLabel(f.type)}</td>
            <td>${(f.options || []).length ? f.options.map((o) => html`<span class="badge" key=${o}>${o}</span>`) : html`<span class="muted">—</span>`}</td>
            <${RowActions} question="Delete this field and its values?" busy=${listAction.busy} confirming=${confirmId === f.id}
              onAskDelete=${() => { listAction.reset(); setConfirmId(f.id); }}
              onCancelDelete=${() => setConfirmId(null)}
              onDelete=${() => remove(f)} />
          </tr>`)}
        </tbody>
      </table>`}
    <//>
    <${Status} action=${listAction} id="fields-status" />
    ${fields.items ? html`<${CreateFieldForm} onCreated=${created} />` : null}
  </div>`;
}
