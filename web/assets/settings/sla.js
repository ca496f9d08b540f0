// Settings › SLA: the service-level policies. They are tried from top to
// bottom on a new request; the first whose conditions (channels,
// departments) match sets its targets. The default policy has no conditions
// and always comes last.
import { useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { ListBody, RowActions, useList } from '../listing.js';
import { kindLabel } from '../nav.js';
import { Status, useAction, useEditForm } from '../ui.js';
import { asSentence, FieldError, fieldMessage, formStatus } from './businesshours.js';

// The targets, in the server's order (its field is "targets.<key>").
export const TARGETS = [
  { key: 'first_response', label: 'First response', hint: 'From the client’s first message to the first agent reply.' },
  { key: 'next_response', label: 'Next response', hint: 'In live chats, from each later unanswered client message to the next reply.' },
  { key: 'resolution', label: 'Resolution', hint: 'From the request’s creation until it is closed (time waiting for the client does not count).' },
];
const UNITS = [{ secs: 60, label: 'minutes' }, { secs: 3600, label: 'hours' }, { secs: 86400, label: 'days' }];
const BREACH = [
  { value: '', label: 'Do nothing' },
  { value: 'requeue', label: 'Return to the queue (the group’s dispatcher, where on, gives it to another agent)' },
];

// human writes seconds the way the request's event lines do, the two
// largest units: "10 min", "1 h 30 min", "2 d 4 h".
export function human(secs) {
  let left = Math.round(Number(secs) || 0);
  const parts = [];
  for (const [n, name] of [[86400, 'd'], [3600, 'h'], [60, 'min'], [1, 's']]) {
    const v = Math.floor(left / n);
    if (v > 0 && parts.length < 2) {
      parts.push(`${v} ${name}`);
      left -= v * n;
    }
  }
  return parts.length ? parts.join(' ') : '0 s';
}

// targetsSummary: "First response 10 min · Resolution 8 h".
export function targetsSummary(targets) {
  const parts = TARGETS.filter((t) => targets && targets[t.key] > 0).map((t) => `${t.label} ${human(targets[t.key])}`);
  return parts.length ? parts.join(' · ') : 'Nothing measured';
}

// amountOf shows seconds in the largest unit they divide into.
function amountOf(secs) {
  if (!(secs > 0)) return { on: false, amount: '', unit: 60 };
  const unit = [86400, 3600, 60].find((u) => secs % u === 0) || 60;
  return { on: true, amount: String(Math.round((secs / unit) * 10000) / 10000), unit };
}

// formOf turns a policy into the form's state. A new policy measures the
// first response, 10 minutes, in the default business hours.
function formOf(p, hours) {
  const fallback = (hours.find((h) => h.default) || hours[0] || {}).id;
  const targets = p ? p.targets || {} : { first_response: 600 };
  return {
    name: p ? p.name : '',
    hours: String((p ? p.business_hours_id : fallback) || ''),
    targets: Object.fromEntries(TARGETS.map((t) => [t.key, amountOf(targets[t.key])])),
    warning: String(p && p.warning_percent ? p.warning_percent : 80),
    channels: p ? p.channels || [] : [],
    departments: p ? p.departments || [] : [],
    on_breach: p ? p.on_breach || '' : '',
  };
}

const FIELD_LABELS = {
  name: 'Name', business_hours_id: 'Business hours', warning_percent: 'Warning', on_breach: 'On breach',
  channels: 'Channels', departments: 'Departments', targets: 'Targets',
  ...Object.fromEntries(TARGETS.map((t) => [`targets.${t.key}`, t.label])),
};

// toggled adds or removes value from a list.
const toggled = (list, value, on) => (on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value));

function Checks({ legend, items, selected, idPrefix, invalid, describedBy, empty, onChange }) {
  return html`<fieldset class="checks" aria-invalid=${invalid} aria-describedby=${describedBy}>
    <legend>${legend}</legend>
    ${items.length ? html`<div class="check-grid">
      ${items.map((it) => html`<label class="check" key=${it.value}>
        <input type="checkbox" id=${`${idPrefix}${it.value}`} value=${String(it.value)} checked=${selected.includes(it.value)}
          onChange=${(e) => onChange(toggled(selected, it.value, e.currentTarget.checked))} />
        <span>${it.label}${it.sub ? html` <small class="muted">${it.sub}</small>` : null}</span>
      </label>`)}
    </div>` : html`<p class="hint">${empty}</p>`}
  </fieldset>`;
}

function TargetRow({ target, value, error, onChange }) {
  const id = (what) => `sla-${what}-${target.key}`;
  const amount = useRef(null);
  const errId = id('error');
  return html`<div class="sla-target" id=${id('target')} data-target=${target.key}>
    <label class="check">
      <input type="checkbox" id=${id('measure')} class="sla-measure" checked=${value.on}
        onChange=${(e) => {
          const on = e.currentTarget.checked;
          onChange({ on });
          // Ticking it asks for the time next.
          if (on) requestAnimationFrame(() => amount.current && amount.current.focus());
        }} />
      <span>Measure ${target.label.toLowerCase()}<small class="hint">${target.hint}</small></span>
    </label>
    <div class="sla-amount">
      <input type="number" id=${id('amount')} class="input-number" min="0" step="any" inputMode="decimal" ref=${amount}
        value=${value.amount} disabled=${!value.on} aria-label=${`${target.label}: time`}
        aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? errId : undefined}
        onInput=${(e) => onChange({ amount: e.currentTarget.value })} />
      <select id=${id('unit')} value=${String(value.unit)} disabled=${!value.on} aria-label=${`${target.label}: unit`}
        onChange=${(e) => onChange({ unit: Number(e.currentTarget.value) })}>
        ${UNITS.map((u) => html`<option key=${u.secs} value=${String(u.secs)}>${u.label}</option>`)}
      </select>
    </div>
    <${FieldError} id=${errId} message=${error} />
  </div>`;
}

function PolicyForm({ policy, hours, channels, departments, onSaved, onCancel }) {
  const { action, form, change, set, formRef } = useEditForm(() => formOf(policy, hours), 'sla-name');
  const isDefault = !!(policy && policy.default);

  const setTarget = (key) => (patch) => change((f) => ({ ...f, targets: { ...f.targets, [key]: { ...f.targets[key], ...patch } } }));

  const field = action.error && action.error.field;
  const placed = !!field && field in FIELD_LABELS && !(isDefault && (field === 'channels' || field === 'departments'));
  const errorOf = (...keys) => (placed && keys.includes(field) ? fieldMessage(action.error, FIELD_LABELS[field]) : '');
  const inv = (...keys) => (errorOf(...keys) ? 'true' : undefined);
  const statusAction = formStatus(action, placed);

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    const name = form.name.trim();
    if (!name) return action.fail('Enter a name.', 'name');
    if (!form.hours) return action.fail('Choose the business hours.', 'business_hours_id');
    const targets = {};
    for (const t of TARGETS) {
      const v = form.targets[t.key];
      if (!v.on) continue;
      const n = Number(String(v.amount).replace(',', '.'));
      if (String(v.amount).trim() === '' || !Number.isFinite(n) || n <= 0) {
        return action.fail(`Enter the ${t.label.toLowerCase()} time, more than zero (or untick it).`, `targets.${t.key}`);
      }
      targets[t.key] = Math.max(1, Math.round(n * v.unit));
    }
    const warning = Number(form.warning);
    if (form.warning.trim() === '' || !Number.isInteger(warning)) return action.fail('Enter a whole percentage, 1 to 99.', 'warning_percent');
    // Channels or departments deleted meanwhile are left out.
    const known = (ids, list) => ids.filter((x) => list.some((it) => it.id === x));
    const body = {
      name,
      business_hours_id: Number(form.hours),
      targets,
      warning_percent: warning,
      channels: isDefault ? [] : known(form.channels, channels),
      departments: isDefault ? [] : known(form.departments, departments),
      on_breach: form.on_breach,
    };
    const res = await action.run(() => (policy ? api.updateSLAPolicy(policy.id, body) : api.createSLAPolicy(body)),
      { pending: 'Saving…', done: '' });
    if (res.ok) onSaved(res.value, !policy);
  }

  const err = (key) => errorOf(key);
  return html`<form class="card form-card" id="sla-form" ref=${formRef} onSubmit=${submit} noValidate aria-labelledby="sla-form-title">
    <h2 id="sla-form-title">${policy ? `Edit SLA policy “${policy.name}”` : 'New SLA policy'}</h2>
    <div class="form-grid">
      <label class="field">
        <span>Name</span>
        <input id="sla-name" type="text" autocomplete="off" value=${form.name} placeholder="VIP clients"
          aria-invalid=${inv('name')} aria-describedby=${err('name') ? 'sla-name-error' : undefined}
          onInput=${(e) => set('name')(e.currentTarget.value)} />
        <${FieldError} id="sla-name-error" message=${err('name')} />
      </label>
      <label class="field">
        <span>Business hours</span>
        <select id="sla-hours" value=${form.hours} aria-invalid=${inv('business_hours_id')}
          aria-describedby=${err('business_hours_id') ? 'sla-hours-error' : 'sla-hours-hint'}
          onChange=${(e) => set('hours')(e.currentTarget.value)}>
          ${form.hours ? null : html`<option value="">Choose…</option>`}
          ${hours.map((h) => html`<option key=${h.id} value=${String(h.id)}>${h.name}${h.default ? ' (default)' : ''}</option>`)}
        </select>
        <small class="hint" id="sla-hours-hint">The targets count only time within these hours (Settings › Business hours).</small>
        <${FieldError} id="sla-hours-error" message=${err('business_hours_id')} />
      </label>
    </div>
    <fieldset class="checks sla-targets-box" id="sla-targets" aria-invalid=${inv('targets')}>
      <legend>Targets</legend>
      <${FieldError} id="sla-targets-error" message=${err('targets')} />
      ${TARGETS.map((t) => html`<${TargetRow} key=${t.key} target=${t} value=${form.targets[t.key]}
        error=${err(`targets.${t.key}`)} onChange=${setTarget(t.key)} />`)}
      <label class="field sla-warning">
        <span>Warn at, % of a target spent</span>
        <input id="sla-warning" type="number" class="input-number" min="1" max="99" step="1" value=${form.warning}
          aria-invalid=${inv('warning_percent')} aria-describedby=${err('warning_percent') ? 'sla-warning-error' : 'sla-warning-hint'}
          onInput=${(e) => set('warning')(e.currentTarget.value)} />
        <small class="hint" id="sla-warning-hint">A running clock turns to its warning colour then (1 to 99).</small>
        <${FieldError} id="sla-warning-error" message=${err('warning_percent')} />
      </label>
    </fieldset>
    ${isDefault ? html`<div class="checks sla-conditions-default" id="sla-conditions">
        <p class="hint">The default policy applies to every request that no policy above it matches, so it takes no
          conditions and always comes last.</p>
      </div>`
      : html`<div class="sla-conditions-form" id="sla-conditions">
        <p class="hint">Conditions: the policy applies to new requests from a ticked channel and a ticked department.
          None ticked in a list: any.</p>
        <${Checks} legend="Channels" items=${channels.map((c) => ({ value: c.id, label: c.name, sub: kindLabel(c.kind) }))}
          selected=${form.channels} idPrefix="sla-channel-" invalid=${inv('channels')}
          describedBy=${err('channels') ? 'sla-channels-error' : undefined} empty="No channels yet."
          onChange=${set('channels')} />
        <${FieldError} id="sla-channels-error" message=${err('channels')} />
        <${Checks} legend="Departments" items=${departments.map((d) => ({ value: d.id, label: d.name }))}
          selected=${form.departments} idPrefix="sla-department-" invalid=${inv('departments')}
          describedBy=${err('departments') ? 'sla-departments-error' : undefined} empty="No departments yet."
          onChange=${set('departments')} />
        <${FieldError} id="sla-departments-error" message=${err('departments')} />
      </div>`}
    <label class="field">
      <span>On breach</span>
      <select id="sla-on-breach" value=${form.on_breach} aria-invalid=${inv('on_breach')}
        aria-describedby=${err('on_breach') ? 'sla-on-breach-error' : 'sla-on-breach-hint'}
        onChange=${(e) => set('on_breach')(e.currentTarget.value)}>
        ${BREACH.map((b) => html`<option key=${b.value} value=${b.value}>${b.label}</option>`)}
      </select>
      <small class="hint" id="sla-on-breach-hint">What happens to an assigned request when one of its targets passes.
        Either way the request shows the breach.</small>
      <${FieldError} id="sla-on-breach-error" message=${err('on_breach')} />
    </label>
    <div class="form-actions">
      <button id="sla-save" type="submit" class="btn btn-primary" disabled=${action.busy}>
        ${action.busy ? 'Saving…' : policy ? 'Save policy' : 'Add policy'}</button>
      <button id="sla-cancel" type="button" class="btn btn-ghost" disabled=${action.busy} onClick=${onCancel}>Cancel</button>
      <${Status} action=${statusAction} id="sla-form-status" />
    </div>
  </form>`;
}

// conditionsText says which requests a policy takes.
function conditionsText(p, channelName, depName) {
  if (p.default) return 'Every other request';
  const parts = [];
  if ((p.channels || []).length) parts.push(`Channel: ${p.channels.map(channelName).join(' or ')}`);
  if ((p.departments || []).length) parts.push(`Department: ${p.departments.map(depName).join(' or ')}`);
  return parts.length ? parts.join(' and ') : 'Any request';
}

// inOrder keeps the server's order with the default last.
const inOrder = (list) => [...list.filter((p) => !p.default), ...list.filter((p) => p.default)];

function PolicyRow({ policy, index, count, hoursName, conditions, busy, confirming, editing, onEdit, onMove, onAskDelete, onCancelDelete, onDelete }) {
  const edit = html`<button type="button" class="btn btn-small sla-edit" data-action="edit" disabled=${busy} onClick=${onEdit}>Edit</button>`;
  return html`<tr data-policy-id=${policy.id} data-policy-name=${policy.name} class=${editing ? 'row-editing' : ''}>
    <td class="cell-count sla-order">${policy.default ? html`<span class="muted" title="Tried last">—</span>` : index + 1}</td>
    <td class="cell-name"><span class="sla-name">${policy.name}</span>${policy.default
      ? html` <span class="badge badge-admin sla-default" title="Applies when no policy above matches">Default</span>` : null}</td>
    <td><span class="sla-targets">${targetsSummary(policy.targets)}</span>
      <span class="cell-sub">Warning at ${policy.warning_percent || 80}%</span></td>
    <td class="sla-hours">${hoursName}</td>
    <td class="sla-conditions">${conditions}</td>
    <td class="sla-on-breach">${policy.on_breach === 'requeue' ? 'Return to the queue' : html`<span class="muted">Nothing</span>`}</td>
    ${policy.default ? html`<td class="cell-actions"><div class="row-actions">${edit}</div></td>`
      : html`<${RowActions} question="Delete this policy?" busy=${busy} confirming=${confirming} deleteClass="sla-delete"
          onAskDelete=${onAskDelete} onCancelDelete=${onCancelDelete} onDelete=${onDelete}>
          <button type="button" class="btn btn-small sla-up" data-action="up" disabled=${busy || index === 0}
            aria-label=${`Move up: ${policy.name}`} title="Move up" onClick=${() => onMove(-1)}>↑</button>
          <button type="button" class="btn btn-small sla-down" data-action="down" disabled=${busy || index === count - 1}
            aria-label=${`Move down: ${policy.name}`} title="Move down" onClick=${() => onMove(1)}>↓</button>
          ${edit}
        <//>`}
  </tr>`;
}

export function SLAPage() {
  const [hours, setHours] = useState([]);
  const [channels, setChannels] = useState([]);
  const [departments, setDepartments] = useState([]);
  const policies = useList(async () => {
    const [p, h, c, d] = await Promise.all([
      api.listSLAPolicies(), api.listBusinessHours(), api.listChannels().catch(() => []), api.listDepartments().catch(() => []),
    ]);
    setHours(h);
    setChannels(c);
    setDepartments(d);
    return inOrder(p);
  });
  const [editing, setEditing] = useState(null); // {policy} (null policy: a new one)
  const [formSeq, setFormSeq] = useState(0);
  const [confirmId, setConfirmId] = useState(null);
  const [notice, setNotice] = useState('');
  const action = useAction();

  const hoursName = (id) => (hours.find((h) => h.id === id) || {}).name || `Business hours #${id}`;
  const channelName = (id) => (channels.find((c) => c.id === id) || {}).name || `Channel #${id}`;
  const depName = (id) => (departments.find((d) => d.id === id) || {}).name || `Department #${id}`;

  function open(policy) {
    setNotice('');
    setConfirmId(null);
    action.reset();
    setFormSeq((n) => n + 1);
    setEditing({ policy });
  }

  function saved(p, isNew) {
    // A new policy is tried just before the default.
    policies.setItems((list) => inOrder(isNew ? [...(list || []), p] : (list || []).map((x) => (x.id === p.id ? p : x))));
    setEditing(null);
    setNotice(isNew ? `Policy “${p.name}” added, tried just before the default.` : `Policy “${p.name}” saved.`);
  }

  async function run(fn, texts) {
    setNotice('');
    setConfirmId(null);
    return action.run(fn, texts);
  }

  async function move(index, delta) {
    const before = policies.items;
    const order = before.filter((p) => !p.default);
    const [moved] = order.splice(index, 1);
    order.splice(index + delta, 0, moved);
    policies.setItems(inOrder([...order, ...before.filter((p) => p.default)]));
    const res = await run(() => api.reorderSLAPolicies(order.map((p) => p.id)), { pending: 'Saving the order…', done: 'Order saved.' });
    if (!res.ok) {
      policies.setItems(before);
      return;
    }
    // Keep the keyboard on the row that moved.
    requestAnimationFrame(() => {
      const row = document.querySelector(`#sla-list tr[data-policy-id="${moved.id}"]`);
      const btn = row && (row.querySelector(delta < 0 ? '.sla-up:not(:disabled)' : '.sla-down:not(:disabled)')
        || row.querySelector('.sla-up:not(:disabled), .sla-down:not(:disabled)'));
      if (btn) btn.focus();
    });
  }

  async function remove(p) {
    const res = await run(() => api.deleteSLAPolicy(p.id), { pending: 'Deleting…', done: `Policy “${p.name}” deleted.` });
    if (res.ok) {
      policies.setItems((list) => (list || []).filter((x) => x.id !== p.id));
      if (editing && editing.policy && editing.policy.id === p.id) setEditing(null);
    }
  }

  const listAction = asSentence(action);
  return html`<div class="admin-page" id="settings-sla">
    <div class="page-tools">
      <p class="intro muted">A new request gets the first policy from the top whose conditions it matches; the default
        policy takes the rest. Targets count only the time within the policy's business hours.</p>
      <button type="button" id="sla-add" class="btn btn-primary" disabled=${!policies.items} onClick=${() => open(null)}>Add policy</button>
    </div>
    <${ListBody} list=${policies} loading="Loading SLA policies…" emptyId="sla-empty" empty="No SLA policies yet.">
      ${(items) => {
        const count = items.filter((p) => !p.default).length;
        let i = -1;
        return html`<table class="table" id="sla-list">
          <thead><tr>
            <th><abbr title="Order">#</abbr></th><th>Name</th><th>Targets</th><th>Business hours</th><th>Conditions</th>
            <th>On breach</th><th><span class="visually-hidden">Actions</span></th>
          </tr></thead>
          <tbody>
            ${items.map((p) => {
              const index = p.default ? -1 : (i += 1);
              return html`<${PolicyRow} key=${p.id} policy=${p} index=${index} count=${count}
                hoursName=${hoursName(p.business_hours_id)} conditions=${conditionsText(p, channelName, depName)}
                busy=${action.busy} confirming=${confirmId === p.id}
                editing=${editing && editing.policy && editing.policy.id === p.id}
                onEdit=${() => open(p)}
                onMove=${(delta) => move(index, delta)}
                onAskDelete=${() => { setNotice(''); action.reset(); setConfirmId(p.id); }}
                onCancelDelete=${() => setConfirmId(null)}
                onDelete=${() => remove(p)} />`;
            })}
          </tbody>
        </table>`;
      }}
    <//>
    <${Status} action=${listAction} id="sla-list-status" />
    ${notice ? html`<p class="status status-ok" id="sla-status" role="status">${notice}</p>` : null}
    ${editing ? html`<${PolicyForm} key=${`${editing.policy ? editing.policy.id : 'new'}-${formSeq}`} policy=${editing.policy}
      hours=${hours} channels=${channels} departments=${departments} onSaved=${saved} onCancel=${() => setEditing(null)} />` : null}
  </div>`;
}
