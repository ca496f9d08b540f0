// Settings › Omnichannel settings: the team-wide options (what the lists
// show, merging replies at close, the widget's department avatar,
// restricting Offline, time zone, grace period) and the dispatcher's rules
// per group.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { statuses as statusStore, useResource } from '../directory.js';
import { ListBody, useList } from '../listing.js';
import { KIND_LABELS } from '../nav.js';
import { Status, inv, useAction } from '../ui.js';

const KINDS = Object.keys(KIND_LABELS);

// timeZones: the current value first, then UTC, the browser's zone and
// every IANA name the browser knows.
function timeZones(current) {
  const local = (() => {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch { return ''; }
  })();
  let all = [];
  try { all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []; } catch { all = []; }
  return [...new Set([current, 'UTC', local, ...all].filter(Boolean))];
}

// formOf turns the server's settings into the form's state.
function formOf(s) {
  const o = s || {};
  const grace = Number(o.grace_seconds) > 0 ? Number(o.grace_seconds) : 120;
  return {
    merge_replies: !!o.merge_replies,
    department_avatar: !!o.department_avatar,
    view_channels: o.view_channels || [],
    view_statuses: o.view_statuses || [],
    restrict_offline_statuses: o.restrict_offline_statuses || [],
    time_zone: o.time_zone || 'UTC',
    grace: String(Math.round((grace / 60) * 100) / 100),
  };
}

// toggled adds or removes value from a list (kept in a stable order).
const toggled = (list, value, on) => (on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value));

function Checks({ legend, hint, items, selected, idPrefix, invalid, onChange }) {
  return html`<fieldset class="checks" aria-invalid=${invalid}>
    <legend>${legend}</legend>
    ${hint ? html`<p class="hint">${hint}</p>` : null}
    <div class="check-grid">
      ${items.map((it) => html`<label class="check" key=${it.value}>
        <input type="checkbox" id=${`${idPrefix}${it.value}`} value=${String(it.value)} checked=${selected.includes(it.value)}
          onChange=${(e) => onChange(toggled(selected, it.value, e.currentTarget.checked))} />
        <span>${it.label}</span>
      </label>`)}
    </div>
  </fieldset>`;
}

function OmnichannelForm({ initial }) {
  const action = useAction();
  const statusList = useResource(statusStore) || [];
  const [form, setForm] = useState(() => formOf(initial));
  const [zones] = useState(() => timeZones(form.time_zone));
  const set = (k) => (v) => {
    if (action.message && !action.busy) action.reset();
    setForm((f) => ({ ...f, [k]: v }));
  };

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    const minutes = Number(String(form.grace).replace(',', '.'));
    if (form.grace === '' || !Number.isFinite(minutes)) return action.fail('Enter the grace period in minutes.', 'grace_seconds');
    // Statuses deleted meanwhile are left out.
    const known = (ids) => (statusList.length ? ids.filter((id) => statusList.some((s) => s.id === id)) : ids);
    const body = {
      merge_replies: form.merge_replies,
      department_avatar: form.department_avatar,
      view_channels: KINDS.filter((k) => form.view_channels.includes(k)),
      view_statuses: known(form.view_statuses),
      restrict_offline_statuses: known(form.restrict_offline_statuses),
      time_zone: form.time_zone,
      grace_seconds: Math.round(minutes * 60),
    };
    const res = await action.run(() => api.saveOmnichannelSettings(body), { done: 'Settings saved.' });
    if (res.ok && res.value) setForm(formOf(res.value));
  }

  const kinds = KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] }));
  const statusItems = statusList.map((s) => ({ value: s.id, label: s.name }));
  return html`<form class="card form-card" id="omni-form" onSubmit=${submit} noValidate aria-labelledby="omni-title">
    <h2 id="omni-title">Omnichannel settings</h2>
    <label class="check">
      <input id="omni-merge-replies" type="checkbox" checked=${form.merge_replies} aria-invalid=${inv(action, 'merge_replies')}
        onChange=${(e) => set('merge_replies')(e.currentTarget.checked)} />
      <span>Merge replies after the chat has been completed
        <small class="hint">Closing a chat adds one transcript message with the whole correspondence; the single messages stay.</small></span>
    </label>
    <label class="check">
      <input id="omni-department-avatar" type="checkbox" checked=${form.department_avatar} aria-invalid=${inv(action, 'department_avatar')}
        onChange=${(e) => set('department_avatar')(e.currentTarget.checked)} />
      <span>Show a single department avatar in the widget
        <small class="hint">Applies to all website chats: visitors see the department's name and avatar instead of the agent's. A single website chat can also turn it on in Widget and chat.</small></span>
    </label>
    <${Checks} legend="View channels" hint="The Omnichannel lists show requests from the ticked channels. None ticked: all channels."
      items=${kinds} selected=${form.view_channels} idPrefix="omni-view-channel-" invalid=${inv(action, 'view_channels')}
      onChange=${set('view_channels')} />
    <${Checks} legend="View statuses" hint="The lists show requests in the ticked statuses. None ticked: all statuses."
      items=${statusItems} selected=${form.view_statuses} idPrefix="omni-view-status-" invalid=${inv(action, 'view_statuses')}
      onChange=${set('view_statuses')} />
    <${Checks} legend="Restrict changing the status to Offline if the agent has requests in statuses"
      hint="An agent holding open requests in a ticked status cannot switch to Offline until they are done."
      items=${statusItems} selected=${form.restrict_offline_statuses} idPrefix="omni-restrict-status-"
      invalid=${inv(action, 'restrict_offline_statuses')} onChange=${set('restrict_offline_statuses')} />
    <div class="form-grid">
      <label class="field">
        <span>Team time zone</span>
        <select id="omni-time-zone" value=${form.time_zone} aria-invalid=${inv(action, 'time_zone')}
          onChange=${(e) => set('time_zone')(e.currentTarget.value)}>
          ${zones.map((z) => html`<option key=${z} value=${z}>${z}</option>`)}
        </select>
        <small class="hint">"Today" in Management › Agents is this zone's calendar day.</small>
      </label>
      <label class="field">
        <span>Grace period, minutes</span>
        <input id="omni-grace" type="number" min="0.17" max="60" step="any" inputMode="decimal" value=${form.grace}
          aria-invalid=${inv(action, 'grace_seconds', 'grace')} onInput=${(e) => set('grace')(e.currentTarget.value)} />
        <small class="hint">An Online agent whose workspace tabs are all disconnected this long counts as Offline for the dispatcher (10 seconds to 60 minutes).</small>
      </label>
    </div>
    <div class="form-actions">
      <button id="omni-save" type="submit" class="btn btn-primary" disabled=${action.busy}>${action.busy ? 'Saving…' : 'Save'}</button>
      <${Status} action=${action} id="omni-status" />
    </div>
  </form>`;
}

const DEFAULT_RULE = { enabled: false, capacity: 3, requeue_after_minutes: 0, requeue_on_offline: false };

function ruleForm(rule) {
  const r = { ...DEFAULT_RULE, ...(rule || {}) };
  return { enabled: !!r.enabled, capacity: String(r.capacity), requeue: String(r.requeue_after_minutes), offline: !!r.requeue_on_offline };
}

// DispatchRow is one group's rule, saved on its own.
function DispatchRow({ group, rule, onSaved }) {
  const action = useAction();
  const [form, setForm] = useState(() => ruleForm(rule));
  useEffect(() => setForm(ruleForm(rule)), [rule]);
  const set = (k) => (e) => {
    const t = e.currentTarget;
    if (action.message && !action.busy) action.reset();
    setForm((f) => ({ ...f, [k]: t.type === 'checkbox' ? t.checked : t.value }));
  };

  async function save() {
    if (action.busy) return;
    const capacity = Number(form.capacity);
    const requeue = Number(form.requeue);
    if (form.capacity.trim() === '' || !Number.isFinite(capacity)) return action.fail('Enter the capacity, 1 to 100.', 'capacity');
    if (form.requeue.trim() === '' || !Number.isFinite(requeue)) return action.fail('Enter the minutes (0 = never).', 'requeue_after_minutes');
    const body = { enabled: form.enabled, capacity, requeue_after_minutes: requeue, requeue_on_offline: form.offline };
    const res = await action.run(() => api.saveDispatchRule(group.id, body), { done: 'Saved.' });
    if (res.ok) onSaved({ group_id: group.id, ...body, ...(res.value && typeof res.value === 'object' ? res.value : {}) });
  }

  const label = (what) => `${what} (${group.name})`;
  return html`<tr data-group-id=${group.id} data-group-name=${group.name}>
    <td class="cell-name">${group.name}</td>
    <td><label class="switch" title=${form.enabled ? 'On' : 'Off'}>
      <input type="checkbox" class="dispatch-enabled" checked=${form.enabled} aria-label=${label('Dispatcher on')}
        aria-invalid=${inv(action, 'enabled')} onChange=${set('enabled')} />
    </label></td>
    <td><input type="number" class="dispatch-capacity input-number" min="1" max="100" step="1" value=${form.capacity}
      aria-label=${label('Capacity')} aria-invalid=${inv(action, 'capacity')} onInput=${set('capacity')} /></td>
    <td><input type="number" class="dispatch-requeue input-number" min="0" step="1" value=${form.requeue}
      aria-label=${label('Return to the queue after, minutes')} aria-invalid=${inv(action, 'requeue_after_minutes')}
      onInput=${set('requeue')} /></td>
    <td><input type="checkbox" class="dispatch-requeue-offline" checked=${form.offline}
      aria-label=${label('Return to the queue when the agent goes Offline')} aria-invalid=${inv(action, 'requeue_on_offline')}
      onChange=${set('offline')} /></td>
    <td class="cell-actions"><div class="dispatch-actions">
      <button type="button" class="btn btn-small btn-primary dispatch-save" disabled=${action.busy} onClick=${save}>
        ${action.busy ? 'Saving…' : 'Save'}</button>
      <${Status} action=${action} className="dispatch-status" />
    </div></td>
  </tr>`;
}

function Dispatcher() {
  const [rules, setRules] = useState(new Map());
  const groups = useList(async () => {
    const [g, r] = await Promise.all([api.listGroups(), api.listDispatchRules()]);
    setRules(new Map(r.map((x) => [x.group_id, x])));
    return g;
  });
  const saved = (rule) => setRules((m) => new Map(m).set(rule.group_id, rule));

  return html`<section class="card form-card" id="dispatch" aria-labelledby="dispatch-title">
    <h2 id="dispatch-title">Dispatcher</h2>
    <p class="hint">When on, a new request served by the group goes at once to its least loaded member who is Online and
      connected, with fewer open chats than the capacity. "Return to the queue" takes back a request its agent has not
      answered in that many minutes (0 = never), or when they go Offline.</p>
    <${ListBody} list=${groups} loading="Loading groups…" emptyId="dispatch-empty"
      empty="No groups yet. The dispatcher works per group: create groups in Administration › Groups.">
      ${(items) => html`<table class="table table-compact" id="dispatch-rules">
        <thead><tr><th>Group</th><th>On</th><th>Capacity</th><th>Return to queue after, min</th><th>When offline</th>
          <th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${items.map((g) => html`<${DispatchRow} key=${g.id} group=${g} rule=${rules.get(g.id)} onSaved=${saved} />`)}
        </tbody>
      </table>`}
    <//>
  </section>`;
}

export function OmnichannelPage() {
  const settings = useList(async () => [await api.getOmnichannelSettings()]);
  return html`<div class="admin-page" id="settings-omnichannel">
    ${settings.error ? html`<div class="card">
        <p class="status status-error" role="alert">${settings.error.message}</p>
        <button type="button" class="btn btn-small" onClick=${settings.reload}>Try again</button>
      </div>`
      : settings.items ? html`<${OmnichannelForm} initial=${settings.items[0]} />`
        : html`<p class="muted" role="status">Loading settings…</p>`}
    <${Dispatcher} />
  </div>`;
}
