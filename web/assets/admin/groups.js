// Administration › Groups: rights and members.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { ListBody, RowActions, useList } from '../listing.js';
import { Status, inv, useAction } from '../ui.js';

// RIGHTS in display order; rights with a parent only take effect together with it.
export const RIGHTS = [
  { value: 'omnichannel', label: 'Omnichannel (module access)', short: 'Omnichannel' },
  { value: 'omnichannel.unassigned', label: 'Access to the queue of unassigned requests', short: 'Unassigned queue', parent: 'omnichannel' },
  { value: 'omnichannel.management', label: 'Omnichannel management', short: 'Management', parent: 'omnichannel' },
  { value: 'omnichannel.settings', label: 'Omnichannel settings', short: 'Settings', parent: 'omnichannel' },
  { value: 'telephony', label: 'Telephony', short: 'Telephony', parent: 'omnichannel' },
];
const KNOWN = new Set(RIGHTS.map((r) => r.value));
const shortLabel = (value) => (RIGHTS.find((r) => r.value === value) || { short: value }).short;

function GroupForm({ group, agents, action, onSaved, onCancel }) {
  const [name, setName] = useState(group ? group.name : '');
  const [rights, setRights] = useState(group ? group.rights || [] : []);
  const [members, setMembers] = useState(group ? group.member_ids || [] : []);

  useEffect(() => {
    if (group) document.getElementById('group-name')?.focus();
  }, []);

  const toggle = (list, setList, value) => (e) => {
    const on = e.currentTarget.checked;
    setList(on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value));
  };

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    // Known rights in display order, then any the server knows and this page does not.
    const orderedRights = [
      ...RIGHTS.map((r) => r.value).filter((v) => rights.includes(v)),
      ...rights.filter((v) => !KNOWN.has(v)),
    ];
    const body = { name: name.trim(), rights: orderedRights, member_ids: [...members].sort((a, b) => a - b) };
    const res = await action.run(
      () => (group ? api.updateGroup(group.id, body) : api.createGroup(body)),
      { done: group ? 'Group saved.' : 'Group created.' },
    );
    if (res.ok) onSaved(res.value, !group);
  }

  const base = rights.includes('omnichannel');
  const orphan = !base && RIGHTS.some((r) => r.parent && rights.includes(r.value));
  const rightBox = (r) => html`<label class="check" key=${r.value}>
    <input type="checkbox" name="right" value=${r.value} checked=${rights.includes(r.value)}
      onChange=${toggle(rights, setRights, r.value)} />
    <span>${r.label}</span>
  </label>`;

  return html`<form class="card form-card" id="group-form" onSubmit=${submit} noValidate>
    <h2>${group ? html`Edit group “${group.name}”` : 'New group'}</h2>
    <label class="field">
      <span>Name</span>
      <input id="group-name" name="name" type="text" autocomplete="off" value=${name}
        onInput=${(e) => setName(e.currentTarget.value)} aria-invalid=${inv(action, 'name')} />
    </label>

    <fieldset class="checks" aria-invalid=${inv(action, 'rights')}>
      <legend>Rights</legend>
      ${RIGHTS.filter((r) => !r.parent).map(rightBox)}
      <div class="check-children">
        <p class="hint">These rights need “Omnichannel (module access)”; without it they have no effect.</p>
        ${RIGHTS.filter((r) => r.parent).map(rightBox)}
      </div>
      ${orphan ? html`<p class="hint hint-warn" id="group-rights-warning">Tick “Omnichannel (module access)” as well, otherwise members get none of these rights.</p>` : null}
    </fieldset>

    <fieldset class="checks" aria-invalid=${inv(action, 'member_ids', 'members')}>
      <legend>Members</legend>
      ${agents.length ? html`<div class="member-list">
        ${agents.map((a) => html`<label class="check" key=${a.id}>
          <input type="checkbox" name="member" value=${String(a.id)} checked=${members.includes(a.id)}
            onChange=${toggle(members, setMembers, a.id)} />
          <span>${a.name} <span class="muted">${a.email}</span>${a.active ? null : html` <span class="badge badge-off">Deactivated</span>`}</span>
        </label>`)}
      </div>` : html`<p class="muted">No agents yet.</p>`}
    </fieldset>

    <div class="form-actions">
      <button id="group-save" type="submit" class="btn btn-primary" disabled=${action.busy}>
        ${action.busy ? 'Saving…' : group ? 'Save group' : 'Create group'}
      </button>
      ${group ? html`<button id="group-cancel" type="button" class="btn btn-ghost" onClick=${onCancel}>Cancel</button>` : null}
      <${Status} action=${action} id="group-status" />
    </div>
  </form>`;
}

function GroupRow({ group, editing, busy, confirming, onEdit, onAskDelete, onDelete, onCancelDelete, memberNames }) {
  return html`<tr data-group-name=${group.name} class=${editing ? 'row-editing' : ''}>
    <td class="cell-name">${group.name}</td>
    <td>${(group.rights || []).length
      ? (group.rights || []).map((r) => html`<span class="badge" key=${r}>${shortLabel(r)}</span>`)
      : html`<span class="muted">No rights</span>`}</td>
    <td class="cell-count" title=${memberNames}>${(group.member_ids || []).length}</td>
    <${RowActions} question="Delete this group?" busy=${busy} confirming=${confirming}
      onAskDelete=${onAskDelete} onCancelDelete=${onCancelDelete} onDelete=${onDelete}>
      <button type="button" class="btn btn-small" data-action="edit" disabled=${busy} onClick=${onEdit}>Edit</button>
    <//>
  </tr>`;
}

export function GroupsPage({ refreshMe }) {
  const [agents, setAgents] = useState([]);
  const groups = useList(async () => {
    const [g, a] = await Promise.all([api.listGroups(), api.listAgents()]);
    setAgents(a);
    return g;
  });
  const [editing, setEditing] = useState(null);
  const [confirmId, setConfirmId] = useState(null);
  const [formSeq, setFormSeq] = useState(0); // bumped to clear the form after a save
  const formAction = useAction();
  const listAction = useAction();

  const agentName = new Map(agents.map((a) => [a.id, a.name]));

  function startEdit(group) {
    formAction.reset();
    setConfirmId(null);
    setEditing(group);
  }

  function saved(group, isNew) {
    groups.setItems((list) => (isNew ? [...(list || []), group] : (list || []).map((g) => (g.id === group.id ? group : g))));
    setEditing(null);
    setFormSeq((n) => n + 1);
    refreshMe();
  }

  async function remove(group) {
    const res = await listAction.run(() => api.deleteGroup(group.id), { pending: 'Deleting group…', done: `Group “${group.name}” deleted.` });
    setConfirmId(null);
    if (!res.ok) return;
    groups.setItems((list) => (list || []).filter((g) => g.id !== group.id));
    if (editing && editing.id === group.id) {
      formAction.reset();
      setEditing(null);
    }
    refreshMe();
  }

  return html`<div class="admin-page" id="admin-groups">
    <p class="intro muted">Rights are given to groups; an agent gets the rights of every group they belong to.</p>
    <${ListBody} list=${groups} loading="Loading groups…" empty="No groups yet. Create one below to give agents rights.">
      ${(items) => html`<table class="table" id="groups-table">
        <thead><tr><th>Name</th><th>Rights</th><th>Members</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${items.map((g) => html`<${GroupRow} key=${g.id} group=${g}
            editing=${editing && editing.id === g.id}
            busy=${listAction.busy}
            confirming=${confirmId === g.id}
            memberNames=${(g.member_ids || []).map((id) => agentName.get(id)).filter(Boolean).join(', ')}
            onEdit=${() => startEdit(g)}
            onAskDelete=${() => { listAction.reset(); setConfirmId(g.id); }}
            onCancelDelete=${() => setConfirmId(null)}
            onDelete=${() => remove(g)} />`)}
        </tbody>
      </table>`}
    <//>
    <${Status} action=${listAction} id="groups-list-status" />
    ${groups.items ? html`<${GroupForm} key=${editing ? `edit-${editing.id}` : `new-${formSeq}`} group=${editing} agents=${agents}
      action=${formAction} onSaved=${saved} onCancel=${() => { formAction.reset(); setEditing(null); }} />` : null}
  </div>`;
}
