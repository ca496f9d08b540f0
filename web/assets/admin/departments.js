// Administration › Departments: name, visitor-facing display name and avatar.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { ListBody, RowActions, useList } from '../listing.js';
import { Avatar, AvatarInput, Status, inv, useAction } from '../ui.js';

function DepartmentForm({ department, action, onSaved, onCancel }) {
  const [name, setName] = useState(department ? department.name : '');
  const [displayName, setDisplayName] = useState(department ? department.display_name : '');

  useEffect(() => {
    if (department) document.getElementById('department-name')?.focus();
  }, []);

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    const body = { name: name.trim(), display_name: displayName.trim() };
    const res = await action.run(
      () => (department ? api.updateDepartment(department.id, body) : api.createDepartment(body)),
      { done: department ? 'Department saved.' : 'Department created.' },
    );
    if (res.ok) onSaved(res.value, !department);
  }

  return html`<form class="card form-card" id="department-form" onSubmit=${submit} noValidate>
    <h2>${department ? html`Edit department “${department.name}”` : 'New department'}</h2>
    <div class="form-grid">
      <label class="field">
        <span>Name</span>
        <input id="department-name" name="name" type="text" autocomplete="off" value=${name}
          onInput=${(e) => setName(e.currentTarget.value)} aria-invalid=${inv(action, 'name')} />
        <small class="hint">Used inside the workspace.</small>
      </label>
      <label class="field">
        <span>Display name</span>
        <input id="department-display-name" name="display_name" type="text" autocomplete="off" value=${displayName}
          onInput=${(e) => setDisplayName(e.currentTarget.value)} aria-invalid=${inv(action, 'display_name')} />
        <small class="hint">Shown to widget visitors.</small>
      </label>
    </div>
    <div class="form-actions">
      <button id="department-save" type="submit" class="btn btn-primary" disabled=${action.busy}>
        ${action.busy ? 'Saving…' : department ? 'Save department' : 'Create department'}
      </button>
      ${department ? html`<button id="department-cancel" type="button" class="btn btn-ghost" onClick=${onCancel}>Cancel</button>` : null}
      <${Status} action=${action} id="department-status" />
    </div>
  </form>`;
}

function DepartmentRow({ department, editing, busy, confirming, onEdit, onAskDelete, onCancelDelete, onDelete, onAvatar, onRemoveAvatar, onInvalidFile }) {
  return html`<tr data-department-name=${department.name} class=${editing ? 'row-editing' : ''}>
    <td class="cell-avatar"><${Avatar} url=${department.avatar_url} name=${department.display_name || department.name} /></td>
    <td class="cell-name">${department.name}</td>
    <td>${department.display_name}</td>
    <${RowActions} question="Delete this department?" busy=${busy} confirming=${confirming}
      onAskDelete=${onAskDelete} onCancelDelete=${onCancelDelete} onDelete=${onDelete}>
      <button type="button" class="btn btn-small" data-action="edit" disabled=${busy} onClick=${onEdit}>Edit</button>
      <${AvatarInput} className="avatar-upload" label="Upload avatar" disabled=${busy} onFile=${onAvatar} onInvalid=${onInvalidFile} />
      ${department.avatar_url ? html`<button type="button" class="btn btn-small" data-action="remove-avatar"
        disabled=${busy} onClick=${onRemoveAvatar}>Remove avatar</button>` : null}
    <//>
  </tr>`;
}

export function DepartmentsPage() {
  const departments = useList(() => api.listDepartments());
  const [editing, setEditing] = useState(null);
  const [confirmId, setConfirmId] = useState(null);
  const [formSeq, setFormSeq] = useState(0);
  const formAction = useAction();
  const listAction = useAction();

  const replace = (dep) => departments.setItems((list) => (list || []).map((d) => (d.id === dep.id ? dep : d)));

  function saved(dep, isNew) {
    if (isNew) departments.setItems((list) => [...(list || []), dep]);
    else replace(dep);
    setEditing(null);
    setFormSeq((n) => n + 1);
  }

  async function rowAction(fn, texts) {
    setConfirmId(null);
    const res = await listAction.run(fn, texts);
    if (res.ok && res.value) replace(res.value);
  }

  async function remove(dep) {
    const res = await listAction.run(() => api.deleteDepartment(dep.id), { pending: 'Deleting department…', done: `Department “${dep.name}” deleted.` });
    setConfirmId(null);
    if (!res.ok) return;
    departments.setItems((list) => (list || []).filter((d) => d.id !== dep.id));
    if (editing && editing.id === dep.id) {
      formAction.reset();
      setEditing(null);
    }
  }

  return html`<div class="admin-page" id="admin-departments">
    <p class="intro muted">The display name and avatar of a department are what widget visitors see when “single department avatar” is on, instead of the individual agent.</p>
    <${ListBody} list=${departments} loading="Loading departments…" empty="No departments yet.">
      ${(items) => html`<table class="table" id="departments-table">
        <thead><tr>
          <th class="cell-avatar"><span class="visually-hidden">Avatar</span></th>
          <th>Name</th><th>Display name</th><th><span class="visually-hidden">Actions</span></th>
        </tr></thead>
        <tbody>
          ${items.map((d) => html`<${DepartmentRow} key=${d.id} department=${d}
            editing=${editing && editing.id === d.id}
            busy=${listAction.busy}
            confirming=${confirmId === d.id}
            onEdit=${() => { formAction.reset(); setConfirmId(null); setEditing(d); }}
            onAskDelete=${() => { listAction.reset(); setConfirmId(d.id); }}
            onCancelDelete=${() => setConfirmId(null)}
            onDelete=${() => remove(d)}
            onAvatar=${(file) => rowAction(() => api.uploadDepartmentAvatar(d.id, file), { pending: 'Uploading avatar…', done: `Avatar of “${d.name}” updated.` })}
            onRemoveAvatar=${() => rowAction(() => api.deleteDepartmentAvatar(d.id), { pending: 'Removing avatar…', done: `Avatar of “${d.name}” removed.` })}
            onInvalidFile=${(msg) => listAction.fail(msg)} />`)}
        </tbody>
      </table>`}
    <//>
    <${Status} action=${listAction} id="departments-list-status" />
    ${departments.items ? html`<${DepartmentForm} key=${editing ? `edit-${editing.id}` : `new-${formSeq}`} department=${editing}
      action=${formAction} onSaved=${saved} onCancel=${() => { formAction.reset(); setEditing(null); }} />` : null}
  </div>`;
}
