// Settings › Scripts: ordered rules that route website chats by the page the
// visitor writes from (department, serving group, request form).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { ListBody, RowActions, useList } from '../listing.js';
import { Modal, Status, inv, useAction } from '../ui.js';

const MATCHES = [
  { value: 'exact', label: 'URL is' },
  { value: 'contains', label: 'URL contains' },
];
const matchLabel = (m) => (MATCHES.find((x) => x.value === m) || { label: m }).label;

function ScriptDialog({ script, departments, groups, onSaved, onClose }) {
  const action = useAction();
  const [name, setName] = useState(script ? script.name : '');
  const [match, setMatch] = useState(script ? script.match : 'contains');
  const [pattern, setPattern] = useState(script ? script.pattern : '');
  const [dep, setDep] = useState(script && script.department_id ? String(script.department_id) : '');
  const [group, setGroup] = useState(script && script.group_id ? String(script.group_id) : '');
  const [requestForm, setRequestForm] = useState(script ? !!script.request_form : false);
  const [active, setActive] = useState(script ? !!script.active : true);

  useEffect(() => { document.getElementById('script-name')?.focus(); }, []);

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    if (!name.trim()) return action.fail('Enter a name.', 'name');
    if (!pattern.trim()) return action.fail(match === 'exact' ? 'Enter the page address.' : 'Enter a part of the page address.', 'pattern');
    const body = { name: name.trim(), match, pattern: pattern.trim(), request_form: requestForm, active };
    // None is 0 when editing (clears it); a new script simply leaves it out.
    if (dep || script) body.department_id = dep ? Number(dep) : 0;
    if (group || script) body.group_id = group ? Number(group) : 0;
    const res = await action.run(() => (script ? api.updateScript(script.id, body) : api.createScript(body)),
      { pending: 'Saving…', done: '' });
    if (res.ok) onSaved(res.value, !script);
  }

  return html`<${Modal} id="script-dialog" title=${script ? 'Edit script' : 'New script'} onClose=${onClose}>
    <form class="stack" id="script-form" onSubmit=${submit} noValidate>
      <label class="field">
        <span>Name</span>
        <input id="script-name" type="text" autocomplete="off" value=${name}
          onInput=${(e) => setName(e.currentTarget.value)} aria-invalid=${inv(action, 'name')} />
      </label>
      <div class="form-grid form-grid-tight">
        <label class="field">
          <span>Match</span>
          <select id="script-match" value=${match} onChange=${(e) => setMatch(e.currentTarget.value)} aria-invalid=${inv(action, 'match')}>
            ${MATCHES.map((m) => html`<option key=${m.value} value=${m.value}>${m.label}</option>`)}
          </select>
        </label>
        <label class="field field-wide">
          <span>${match === 'exact' ? 'Page address' : 'Part of the page address'}</span>
          <input id="script-pattern" type="text" autocomplete="off" spellcheck="false" value=${pattern}
            placeholder=${match === 'exact' ? 'https://shop.example.com/pricing' : '/pricing'}
            onInput=${(e) => setPattern(e.currentTarget.value)} aria-invalid=${inv(action, 'pattern')} />
        </label>
      </div>
      <div class="form-grid form-grid-tight">
        <label class="field">
          <span>Department <span class="muted">(optional)</span></span>
          <select id="script-department" value=${dep} onChange=${(e) => setDep(e.currentTarget.value)} aria-invalid=${inv(action, 'department_id')}>
            <option value="">The channel's</option>
            ${departments.map((d) => html`<option key=${d.id} value=${String(d.id)}>${d.name}</option>`)}
          </select>
        </label>
        <label class="field">
          <span>Group <span class="muted">(optional)</span></span>
          <select id="script-group" value=${group} onChange=${(e) => setGroup(e.currentTarget.value)} aria-invalid=${inv(action, 'group_id')}>
            <option value="">The channel's</option>
            ${groups.map((g) => html`<option key=${g.id} value=${String(g.id)}>${g.name}</option>`)}
          </select>
        </label>
      </div>
      <label class="check">
        <input id="script-request-form" type="checkbox" checked=${requestForm}
          onChange=${(e) => setRequestForm(e.currentTarget.checked)} aria-invalid=${inv(action, 'request_form')} />
        <span>Offer a request form when nobody in the group is online</span>
      </label>
      <label class="check">
        <input id="script-active" type="checkbox" checked=${active}
          onChange=${(e) => setActive(e.currentTarget.checked)} aria-invalid=${inv(action, 'active')} />
        <span>Active</span>
      </label>
      <${Status} action=${action} id="script-status" />
      <div class="form-actions">
        <button id="script-save" type="submit" class="btn btn-primary" disabled=${action.busy}>
          ${action.busy ? 'Saving…' : script ? 'Save script' : 'Add script'}</button>
        <button id="script-cancel" type="button" class="btn btn-ghost" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

function ScriptRow({ script, index, count, depName, groupName, busy, confirming, onEdit, onMove, onToggle, onAskDelete, onCancelDelete, onDelete }) {
  const none = html`<span class="muted" title="The channel's own">—</span>`;
  return html`<tr data-script-id=${script.id} class=${script.active ? '' : 'row-inactive'}>
    <td class="cell-count script-order">${index + 1}</td>
    <td class="cell-name script-name">${script.name}</td>
    <td class="script-match">${matchLabel(script.match)}</td>
    <td class="cell-pattern"><code class="script-pattern">${script.pattern}</code></td>
    <td>${depName || none}</td>
    <td>${groupName || none}</td>
    <td class="script-request-form">${script.request_form ? 'Yes' : 'No'}</td>
    <td>
      <label class="switch">
        <input type="checkbox" role="switch" class="script-active-toggle" checked=${!!script.active} disabled=${busy}
          onChange=${(e) => onToggle(e.currentTarget.checked)} />
        <span class="visually-hidden">Active: ${script.name}</span>
      </label>
    </td>
    <${RowActions} question="Delete this script?" busy=${busy} confirming=${confirming} deleteClass="script-delete"
      onAskDelete=${onAskDelete} onCancelDelete=${onCancelDelete} onDelete=${onDelete}>
      <button type="button" class="btn btn-small script-up" data-action="up" disabled=${busy || index === 0}
        aria-label=${`Move up: ${script.name}`} title="Move up" onClick=${() => onMove(-1)}>↑</button>
      <button type="button" class="btn btn-small script-down" data-action="down" disabled=${busy || index === count - 1}
        aria-label=${`Move down: ${script.name}`} title="Move down" onClick=${() => onMove(1)}>↓</button>
      <button type="button" class="btn btn-small script-edit" data-action="edit" disabled=${busy} onClick=${onEdit}>Edit</button>
    <//>
  </tr>`;
}

export function ScriptsPage() {
  const [departments, setDepartments] = useState([]);
  const [groups, setGroups] = useState([]);
  const scripts = useList(async () => {
    const [s, d, g] = await Promise.all([
      api.listScripts(), api.listDepartments().catch(() => []), api.listGroups().catch(() => []),
    ]);
    setDepartments(d);
    setGroups(g);
    return s;
  });
  const [dialog, setDialog] = useState(null); // {script} (null script: a new one)
  const [confirmId, setConfirmId] = useState(null);
  const [notice, setNotice] = useState('');
  const action = useAction();

  const depName = (id) => (id ? (departments.find((d) => d.id === id) || {}).name || `Department #${id}` : '');
  const groupName = (id) => (id ? (groups.find((g) => g.id === id) || {}).name || `Group #${id}` : '');
  const replace = (s) => scripts.setItems((list) => (list || []).map((x) => (x.id === s.id ? s : x)));

  async function run(fn, texts) {
    setNotice('');
    setConfirmId(null);
    return action.run(fn, texts);
  }

  function saved(s, isNew) {
    scripts.setItems((list) => (isNew ? [...(list || []), s] : (list || []).map((x) => (x.id === s.id ? s : x))));
    setDialog(null);
    action.reset();
    setNotice(isNew ? `Script “${s.name}” added at the bottom of the list.` : `Script “${s.name}” saved.`);
  }

  async function toggle(s, on) {
    replace({ ...s, active: on });
    const res = await run(() => api.updateScript(s.id, { active: on }),
      { pending: '', done: on ? `Script “${s.name}” is active.` : `Script “${s.name}” is off.` });
    replace(res.ok && res.value ? res.value : s);
  }

  async function move(index, delta) {
    const before = scripts.items;
    const moved = before[index];
    const order = before.slice();
    order.splice(index, 1);
    order.splice(index + delta, 0, moved);
    scripts.setItems(order);
    const res = await run(() => api.reorderScripts(order.map((s) => s.id)), { pending: 'Saving the order…', done: 'Order saved.' });
    if (!res.ok) {
      scripts.setItems(before);
      return;
    }
    if (res.value && res.value.length) scripts.setItems(res.value);
    // Keep the keyboard on the row that moved.
    requestAnimationFrame(() => {
      const row = document.querySelector(`#scripts-list tr[data-script-id="${moved.id}"]`);
      const btn = row && (row.querySelector(delta < 0 ? '.script-up:not(:disabled)' : '.script-down:not(:disabled)')
        || row.querySelector('.script-up:not(:disabled), .script-down:not(:disabled)'));
      if (btn) btn.focus();
    });
  }

  async function remove(s) {
    const res = await run(() => api.deleteScript(s.id), { pending: 'Deleting…', done: `Script “${s.name}” deleted.` });
    if (res.ok) scripts.setItems((list) => (list || []).filter((x) => x.id !== s.id));
  }

  return html`<div class="admin-page" id="settings-scripts">
    <div class="page-tools">
      <p class="intro muted">Scripts are tried from top to bottom; the first active one whose URL matches the page decides. With no match the channel's own department and group apply.</p>
      <button type="button" id="script-add" class="btn btn-primary" disabled=${!scripts.items}
        onClick=${() => { setNotice(''); action.reset(); setDialog({ script: null }); }}>Add script</button>
    </div>
    <${ListBody} list=${scripts} loading="Loading scripts…" emptyId="scripts-empty"
      empty="No scripts yet: every website chat goes to its channel's department and group.">
      ${(items) => html`<table class="table" id="scripts-list">
        <thead><tr>
          <th><abbr title="Order">#</abbr></th><th>Name</th><th>Match</th><th>Pattern</th><th>Department</th><th>Group</th>
          <th>Request form</th><th>Active</th><th><span class="visually-hidden">Actions</span></th>
        </tr></thead>
        <tbody>
          ${items.map((s, i) => html`<${ScriptRow} key=${s.id} script=${s} index=${i} count=${items.length}
            depName=${depName(s.department_id)} groupName=${groupName(s.group_id)}
            busy=${action.busy} confirming=${confirmId === s.id}
            onEdit=${() => { setNotice(''); setConfirmId(null); action.reset(); setDialog({ script: s }); }}
            onMove=${(delta) => move(i, delta)}
            onToggle=${(on) => toggle(s, on)}
            onAskDelete=${() => { setNotice(''); action.reset(); setConfirmId(s.id); }}
            onCancelDelete=${() => setConfirmId(null)}
            onDelete=${() => remove(s)} />`)}
        </tbody>
      </table>`}
    <//>
    <${Status} action=${action} id="scripts-list-status" />
    ${notice ? html`<p class="status status-ok" id="scripts-status" role="status">${notice}</p>` : null}
    ${dialog ? html`<${ScriptDialog} key=${dialog.script ? dialog.script.id : 'new'} script=${dialog.script}
      departments=${departments} groups=${groups} onSaved=${saved} onClose=${() => setDialog(null)} />` : null}
  </div>`;
}
