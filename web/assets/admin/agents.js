// Administration › Agents: list, create, edit, avatar, password reset, (de)activation.
import { useMemo, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { ListBody, useList } from '../listing.js';
import { Avatar, AvatarInput, OneTimeSecret, PresenceDot, Status, inv, useAction } from '../ui.js';

const ONCE_NOTE = 'Shown only once. Pass it on to the agent; they can change it after signing in.';

// fieldSetter(setForm)(key) is an input handler that stores the input's value
// (a checkbox's checked state) as form[key].
const fieldSetter = (setForm) => (k) => (e) => {
  const t = e.currentTarget;
  setForm((f) => ({ ...f, [k]: t.type === 'checkbox' ? t.checked : t.value }));
};

function CreateAgentForm({ onCreated }) {
  const empty = { email: '', name: '', password: '', is_admin: false };
  const action = useAction();
  const [form, setForm] = useState(empty);
  const [created, setCreated] = useState(null);
  const set = fieldSetter(setForm);

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    setCreated(null);
    const body = { email: form.email.trim(), name: form.name.trim(), is_admin: form.is_admin };
    if (form.password) body.password = form.password;
    const res = await action.run(() => api.createAgent(body), { pending: 'Creating agent…', done: 'Agent created.' });
    if (!res.ok) return;
    const { agent, password } = res.value || {};
    if (agent) onCreated(agent);
    setForm(empty);
    if (password) setCreated({ email: agent ? agent.email : body.email, password });
  }

  return html`<form class="card form-card" id="agent-create-form" onSubmit=${submit} noValidate>
    <h2>Add an agent</h2>
    <div class="form-grid">
      <label class="field">
        <span>Email</span>
        <input id="agent-email" name="email" type="email" autocomplete="off" value=${form.email}
          onInput=${set('email')} aria-invalid=${inv(action, 'email')} />
      </label>
      <label class="field">
        <span>Name</span>
        <input id="agent-name" name="name" type="text" autocomplete="off" value=${form.name}
          onInput=${set('name')} aria-invalid=${inv(action, 'name')} />
      </label>
      <label class="field">
        <span>Password <span class="muted">(optional)</span></span>
        <input id="agent-password" name="password" type="password" autocomplete="new-password"
          placeholder="leave empty to generate" value=${form.password}
          onInput=${set('password')} aria-invalid=${inv(action, 'password')} />
      </label>
    </div>
    <label class="check">
      <input id="agent-admin" name="is_admin" type="checkbox" checked=${form.is_admin} onChange=${set('is_admin')} />
      <span>Administrator <span class="muted">— can manage agents, groups and departments</span></span>
    </label>
    <div class="form-actions">
      <button id="agent-create" type="submit" class="btn btn-primary" disabled=${action.busy}>
        ${action.busy ? 'Creating…' : 'Create agent'}
      </button>
      <${Status} action=${action} id="agent-create-status" />
    </div>
    ${created ? html`<div class="created">
      <p>Generated password for <strong>${created.email}</strong>:</p>
      <${OneTimeSecret} id="agent-created-password" value=${created.password} note=${ONCE_NOTE}
        onDismiss=${() => setCreated(null)} />
    </div>` : null}
  </form>`;
}

function EditAgentForm({ agent, action, onSaved, onCancel }) {
  const [form, setForm] = useState({ name: agent.name, email: agent.email, is_admin: agent.is_admin });
  const set = fieldSetter(setForm);

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    const patch = {};
    if (form.name.trim() !== agent.name) patch.name = form.name.trim();
    if (form.email.trim() !== agent.email) patch.email = form.email.trim();
    if (form.is_admin !== agent.is_admin) patch.is_admin = form.is_admin;
    if (!Object.keys(patch).length) {
      onCancel();
      return;
    }
    const res = await action.run(() => api.updateAgent(agent.id, patch), { done: 'Changes saved.' });
    if (res.ok) onSaved(res.value);
  }

  return html`<form class="inline-form" onSubmit=${submit} noValidate>
    <label class="field">
      <span>Name</span>
      <input id="edit-agent-name" name="name" type="text" value=${form.name} onInput=${set('name')}
        aria-invalid=${inv(action, 'name')} />
    </label>
    <label class="field">
      <span>Email</span>
      <input id="edit-agent-email" name="email" type="email" value=${form.email} onInput=${set('email')}
        aria-invalid=${inv(action, 'email')} />
    </label>
    <label class="check">
      <input id="edit-agent-admin" name="is_admin" type="checkbox" checked=${form.is_admin} onChange=${set('is_admin')} />
      <span>Administrator</span>
    </label>
    <div class="form-actions">
      <button id="edit-agent-save" type="submit" class="btn btn-primary btn-small" disabled=${action.busy}>Save</button>
      <button id="edit-agent-cancel" type="button" class="btn btn-ghost btn-small" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

function ResetPasswordForm({ agent, action, onDone, onCancel }) {
  const [password, setPassword] = useState('');

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    const res = await action.run(() => api.resetAgentPassword(agent.id, password), {
      pending: 'Resetting password…',
      done: 'Password reset.',
    });
    if (res.ok) onDone(res.value && res.value.password);
  }

  return html`<form class="inline-form" onSubmit=${submit} noValidate>
    <p class="hint">Reset the password of <strong>${agent.name}</strong>. The current password stops working.</p>
    <label class="field">
      <span>New password <span class="muted">(optional)</span></span>
      <input id="reset-agent-password" name="password" type="password" autocomplete="new-password"
        placeholder="leave empty to generate" value=${password}
        onInput=${(e) => setPassword(e.currentTarget.value)} aria-invalid=${inv(action, 'password')} />
    </label>
    <div class="form-actions">
      <button id="reset-agent-submit" type="submit" class="btn btn-danger btn-small" disabled=${action.busy}>Reset password</button>
      <button type="button" class="btn btn-ghost btn-small" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

function AgentRow({ agent, isSelf, groupNames, panel, setPanel, onAgent }) {
  const action = useAction();
  const [newPassword, setNewPassword] = useState(null);
  const open = panel && panel.id === agent.id ? panel.kind : null;

  function openPanel(kind) {
    action.reset();
    setNewPassword(null);
    setPanel(open === kind ? null : { id: agent.id, kind });
  }

  async function save(fn, texts) {
    const res = await action.run(fn, texts);
    if (res.ok && res.value) onAgent(res.value);
  }

  const toggleActive = () => save(() => api.updateAgent(agent.id, { active: !agent.active }), agent.active
    ? { pending: 'Deactivating…', done: 'Agent deactivated. They can no longer sign in.' }
    : { pending: 'Reactivating…', done: 'Agent reactivated.' });
  const uploadAvatar = (file) => save(() => api.uploadAgentAvatar(agent.id, file), { pending: 'Uploading avatar…', done: 'Avatar updated.' });
  const removeAvatar = () => save(() => api.deleteAgentAvatar(agent.id), { pending: 'Removing avatar…', done: 'Avatar removed.' });

  const showPanel = open || newPassword || action.busy || action.error || action.message;
  const busy = action.busy;

  return html`
    <tr data-agent-email=${agent.email} class=${agent.active ? '' : 'row-inactive'}>
      <td class="cell-avatar"><${Avatar} url=${agent.avatar_url} name=${agent.name} /></td>
      <td>
        <div class="cell-name">${agent.name}${isSelf ? html` <span class="muted">(you)</span>` : null}</div>
        <div class="cell-email">${agent.email}</div>
      </td>
      <td>
        ${agent.active
          ? html`<span class="badge badge-ok agent-status">Active</span>`
          : html`<span class="badge badge-off agent-status">Deactivated</span>`}
        ${agent.is_admin ? html`<span class="badge badge-admin agent-admin">Admin</span>` : null}
      </td>
      <td><${PresenceDot} presence=${agent.presence} withLabel=${true} /></td>
      <td class="cell-groups">${groupNames.length ? groupNames.join(', ') : html`<span class="muted">—</span>`}</td>
      <td class="cell-actions"><div class="row-actions">
        <button type="button" class="btn btn-small" data-action="edit" disabled=${busy}
          onClick=${() => openPanel('edit')}>Edit</button>
        <${AvatarInput} className="avatar-upload" label="Upload avatar" disabled=${busy} onFile=${uploadAvatar}
          onInvalid=${(msg) => action.fail(msg)} />
        ${agent.avatar_url ? html`<button type="button" class="btn btn-small" data-action="remove-avatar"
          disabled=${busy} onClick=${removeAvatar}>Remove avatar</button>` : null}
        <button type="button" class="btn btn-small" data-action="reset-password" disabled=${busy}
          onClick=${() => openPanel('reset')}>Reset password</button>
        <button type="button" class=${`btn btn-small ${agent.active ? 'btn-danger-outline' : ''}`}
          data-action=${agent.active ? 'deactivate' : 'reactivate'}
          disabled=${busy || (isSelf && agent.active)}
          title=${isSelf && agent.active ? 'You cannot deactivate yourself' : undefined}
          onClick=${toggleActive}>${agent.active ? 'Deactivate' : 'Reactivate'}</button>
      </div></td>
    </tr>
    ${showPanel ? html`<tr class="row-panel" data-agent-panel=${agent.email}>
      <td colspan="6">
        ${open === 'edit' ? html`<${EditAgentForm} agent=${agent} action=${action}
          onSaved=${(a) => { onAgent(a); setPanel(null); }} onCancel=${() => { action.reset(); setPanel(null); }} />` : null}
        ${open === 'reset' ? html`<${ResetPasswordForm} agent=${agent} action=${action}
          onDone=${(pw) => { setNewPassword(pw || null); setPanel(null); }} onCancel=${() => { action.reset(); setPanel(null); }} />` : null}
        ${newPassword ? html`<div class="created">
          <p>New password for <strong>${agent.email}</strong>:</p>
          <${OneTimeSecret} className="agent-reset-password" value=${newPassword} note=${ONCE_NOTE}
            onDismiss=${() => { setNewPassword(null); action.reset(); }} />
        </div>` : null}
        <${Status} action=${action} className="row-status" />
      </td>
    </tr>` : null}
  `;
}

export function AgentsPage({ me, refreshMe }) {
  const [groups, setGroups] = useState([]);
  const agents = useList(async () => {
    const [a, g] = await Promise.all([api.listAgents(), api.listGroups().catch(() => [])]);
    setGroups(g);
    return a;
  });
  const [panel, setPanel] = useState(null);

  const groupName = useMemo(() => new Map(groups.map((g) => [g.id, g.name])), [groups]);

  const onAgent = (agent) => {
    agents.setItems((list) => (list || []).map((a) => (a.id === agent.id ? agent : a)));
    if (agent.id === me.agent.id) refreshMe();
  };
  const onCreated = (agent) => agents.setItems((list) => [...(list || []), agent]);

  return html`<div class="admin-page" id="admin-agents">
    <${ListBody} list=${agents} loading="Loading agents…" empty="No agents yet.">
      ${(items) => html`<table class="table" id="agents-table">
        <thead><tr>
          <th class="cell-avatar"><span class="visually-hidden">Avatar</span></th>
          <th>Agent</th><th>Status</th><th>Presence</th><th>Groups</th>
          <th><span class="visually-hidden">Actions</span></th>
        </tr></thead>
        <tbody>
          ${items.map((a) => html`<${AgentRow} key=${a.id} agent=${a} isSelf=${a.id === me.agent.id}
            groupNames=${(a.group_ids || []).map((id) => groupName.get(id)).filter(Boolean)}
            panel=${panel} setPanel=${setPanel} onAgent=${onAgent} />`)}
        </tbody>
      </table>`}
    <//>
    <${CreateAgentForm} onCreated=${onCreated} />
  </div>`;
}
