// Administration › Away reasons: the reasons (Lunch, Training) an agent can
// give with the Away operator status in the header switch.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { awayReasons } from '../directory.js';
import { ListBody, RowActions, useList } from '../listing.js';
import { Status, inv, useAction } from '../ui.js';

// ReasonForm adds a reason (reason null) or renames one.
function ReasonForm({ reason, action, onSaved, onCancel }) {
  const [name, setName] = useState(reason ? reason.name : '');
  const input = useRef(null);
  useEffect(() => { if (input.current) input.current.focus(); }, []);

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    const n = name.trim();
    if (!n) return action.fail('Enter a name.', 'name');
    if (reason && n === reason.name) return onCancel();
    const res = await action.run(() => (reason ? api.updateAwayReason(reason.id, n) : api.createAwayReason(n)),
      { done: reason ? 'Reason renamed.' : 'Reason added.' });
    if (res.ok) onSaved(res.value, !reason);
  }

  return html`<form class="card form-card" id="away-reason-form" onSubmit=${submit} noValidate>
    <h2>${reason ? html`Rename “${reason.name}”` : 'New away reason'}</h2>
    <label class="field field-narrow">
      <span>Name</span>
      <input id="away-reason-name" ref=${input} type="text" autocomplete="off" maxLength="100" placeholder="Lunch"
        value=${name} onInput=${(e) => setName(e.currentTarget.value)} aria-invalid=${inv(action, 'name')} />
    </label>
    <div class="form-actions">
      <button id="away-reason-save" type="submit" class="btn btn-primary" disabled=${action.busy}>
        ${action.busy ? 'Saving…' : reason ? 'Save' : 'Add reason'}</button>
      <button type="button" class="btn btn-ghost" id="away-reason-cancel" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

export function AwayReasonsPage() {
  const reasons = useList(() => api.listAwayReasons());
  // editing: null (no form), 'new', or the reason being renamed.
  const [editing, setEditing] = useState(null);
  const [confirmId, setConfirmId] = useState(null);
  const [notice, setNotice] = useState('');
  const formAction = useAction();
  const listAction = useAction();

  function open(target) {
    formAction.reset();
    listAction.reset();
    setNotice('');
    setConfirmId(null);
    setEditing(target);
  }

  function saved(reason, isNew) {
    if (reason && reason.id) {
      reasons.setItems((list) => (isNew ? [...(list || []), reason] : (list || []).map((r) => (r.id === reason.id ? reason : r))));
    } else {
      reasons.reload();
    }
    setNotice(isNew ? `Reason “${reason && reason.name ? reason.name : ''}” added.` : 'Reason renamed.');
    setEditing(null);
    awayReasons.reload();
  }

  async function remove(reason) {
    setNotice('');
    const res = await listAction.run(() => api.deleteAwayReason(reason.id),
      { pending: 'Deleting…', done: `Reason “${reason.name}” deleted. Agents away for it stay Away.` });
    setConfirmId(null);
    if (!res.ok) return;
    reasons.setItems((list) => (list || []).filter((r) => r.id !== reason.id));
    if (editing && editing.id === reason.id) setEditing(null);
    awayReasons.reload();
  }

  return html`<div class="admin-page" id="admin-away-reasons">
    <div class="page-tools">
      <p class="intro muted">Agents pick one of these with the Away status in the header (Away – Lunch); supervisors see it in Management › Agents.</p>
      <button type="button" id="away-reason-add" class="btn btn-primary" onClick=${() => open('new')}>Add reason</button>
    </div>
    <${ListBody} list=${reasons} loading="Loading away reasons…" emptyId="away-reasons-empty"
      empty="No away reasons yet: agents can only be plain Away. Add Lunch or Training, for example.">
      ${(items) => html`<table class="table" id="away-reasons-list">
        <thead><tr><th>Name</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${items.map((r) => html`<tr key=${r.id} data-reason-id=${r.id} data-reason-name=${r.name}
            class=${editing && editing.id === r.id ? 'row-editing' : ''}>
            <td class="cell-name reason-name">${r.name}</td>
            <${RowActions} question="Delete this reason?" busy=${listAction.busy} confirming=${confirmId === r.id}
              onAskDelete=${() => { listAction.reset(); setNotice(''); setConfirmId(r.id); }}
              onCancelDelete=${() => setConfirmId(null)} onDelete=${() => remove(r)}>
              <button type="button" class="btn btn-small reason-rename" data-action="rename" disabled=${listAction.busy}
                onClick=${() => open(r)}>Rename</button>
            <//>
          </tr>`)}
        </tbody>
      </table>`}
    <//>
    <${Status} action=${listAction} id="away-reasons-status" />
    ${notice ? html`<p class="status status-ok" id="away-reasons-notice" role="status">${notice}</p>` : null}
    ${editing ? html`<${ReasonForm} key=${editing === 'new' ? 'new' : editing.id} reason=${editing === 'new' ? null : editing}
      action=${formAction} onSaved=${saved} onCancel=${() => { formAction.reset(); setEditing(null); }} />` : null}
    ${editing ? html`<${Status} action=${formAction} id="away-reason-status" />` : null}
  </div>`;
}
