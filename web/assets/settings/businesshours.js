// Settings › Business hours: the weekly schedules, minus holidays, that SLA
// clocks count in (Settings › SLA picks one per policy). The default 24/7
// schedule always exists: it can be edited but not deleted.
import { useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { ListBody, RowActions, useList } from '../listing.js';
import { Status, useAction, useEditForm } from '../ui.js';

// Monday first, the way working weeks are read; the API names days in
// lowercase English.
export const DAYS = [
  ['monday', 'Monday', 'Mon'], ['tuesday', 'Tuesday', 'Tue'], ['wednesday', 'Wednesday', 'Wed'],
  ['thursday', 'Thursday', 'Thu'], ['friday', 'Friday', 'Fri'], ['saturday', 'Saturday', 'Sat'], ['sunday', 'Sunday', 'Sun'],
].map(([key, label, short]) => ({ key, label, short }));
const dayOf = (key) => DAYS.find((d) => d.key === key) || { key, label: key, short: key };
const nextDay = (key) => DAYS[(DAYS.findIndex((d) => d.key === key) + 1) % DAYS.length];

// A whole day is 00:00–24:00, which a time input cannot show: the "All day"
// box stands for it.
const WHOLE_DAY = { start: '00:00', end: '24:00' };
const isWholeDay = (iv) => iv.start === WHOLE_DAY.start && iv.end === WHOLE_DAY.end;

const localZone = () => {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch { return ''; }
};

// timeZones (as in Omnichannel settings): the current value first, then
// UTC, the browser's zone and every IANA name the browser knows.
function timeZones(current) {
  let all = [];
  try { all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []; } catch { all = []; }
  return [...new Set([current, 'UTC', localZone(), ...all].filter(Boolean))];
}

// sentence gives a message a capital letter and a full stop.
export function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

// asSentence is an action whose refusal, if any, reads as a sentence.
export const asSentence = (action) => (action.error ? { ...action, error: { message: sentence(action.error.message) } } : action);

// formStatus is what a form's status line shows: a refusal shown at its
// field (placed) points there, any other reads as a sentence.
export const formStatus = (action, placed) => (action.error && placed
  ? { ...action, error: { message: 'Not saved: check the highlighted field above.' } } : asSentence(action));

// fieldMessage is the text shown next to a refused field. The page's own
// checks are sentences already; the server's ("is required", "overlaps
// week[0]") get the field's label in front, and refs rewrites references to
// other entries into words.
export function fieldMessage(error, label, refs = (s) => s) {
  if (!error) return '';
  if (error.code === 'client_validation') return error.message;
  const msg = refs(String(error.message || ''));
  const missing = /^(\d+) does not exist$/.exec(msg);
  if (missing) return `${label || 'An entry'}: #${missing[1]} no longer exists. Reload the page.`;
  return sentence(!label || /^(a|an|the|there|this|these)\b/i.test(msg) ? msg : `${label} ${msg}`);
}

// FieldError is a refused field's message, under it.
export function FieldError({ id, message, className = '' }) {
  return message ? html`<small class="field-error ${className}" id=${id} role="alert">${message}</small>` : null;
}

const span = (iv) => `${iv.start}–${iv.end}`;

// weekSummary writes a week compactly, consecutive days with the same
// hours together: "Mon–Fri 09:00–18:00 · Sat 10:00–14:00".
export function weekSummary(week) {
  const byDay = Object.fromEntries(DAYS.map((d) => [d.key, []]));
  for (const iv of week || []) if (byDay[iv.day]) byDay[iv.day].push(iv);
  const text = (ivs) => ivs.slice().sort((a, b) => (a.start < b.start ? -1 : 1))
    .map((iv) => (iv.end !== '24:00' && iv.end <= iv.start ? `${span(iv)} (overnight)` : span(iv))).join(', ');
  const runs = [];
  for (const d of DAYS) {
    const t = text(byDay[d.key]);
    const last = runs[runs.length - 1];
    if (last && last.text === t) last.days.push(d);
    else runs.push({ text: t, days: [d] });
  }
  const open = runs.filter((r) => r.text);
  if (!open.length) return 'Closed every day';
  return open.map((r) => {
    const days = r.days.length === 7 ? 'Every day'
      : r.days.length === 1 ? r.days[0].short : `${r.days[0].short}–${r.days[r.days.length - 1].short}`;
    return `${days} ${r.text}`;
  }).join(' · ');
}

let seq = 0;
const uid = () => `r${(seq += 1)}`;

// formOf turns a schedule into the form's state: per day, its interval rows
// (each with a key that survives edits) or All day; the holidays' rows.
// A new schedule starts as Monday to Friday, 09:00–18:00, in the browser's zone.
function formOf(h) {
  const days = Object.fromEntries(DAYS.map((d) => [d.key, { allDay: false, rows: [] }]));
  const week = h ? h.week || [] : DAYS.slice(0, 5).map((d) => ({ day: d.key, start: '09:00', end: '18:00' }));
  for (const iv of week) {
    if (days[iv.day]) days[iv.day].rows.push({ uid: uid(), start: iv.start, end: iv.end });
  }
  for (const day of Object.values(days)) {
    if (day.rows.length === 1 && isWholeDay(day.rows[0])) {
      day.allDay = true;
      day.rows = [];
    }
  }
  return {
    name: h ? h.name : '',
    time_zone: h ? h.time_zone : localZone() || 'UTC',
    days,
    holidays: ((h && h.holidays) || []).map((x) => ({ uid: uid(), name: x.name || '', from: x.from || '', to: x.to || '', yearly: !!x.yearly })),
  };
}

// requestOf builds the body and remembers, for every interval and holiday
// sent, the row it came from: the server names a refused one by its index
// in what was sent ("week[2].end"), so the week goes out in the order shown.
function requestOf(form) {
  const week = [];
  const weekRows = [];
  for (const d of DAYS) {
    const day = form.days[d.key];
    const rows = day.allDay ? [{ uid: `day-${d.key}`, ...WHOLE_DAY }] : day.rows;
    for (const r of rows) {
      week.push({ day: d.key, start: r.start, end: r.end });
      weekRows.push(r.uid);
    }
  }
  const holidays = form.holidays.map((x) => {
    const out = { name: x.name.trim(), from: x.from, yearly: x.yearly };
    if (x.to) out.to = x.to; // no "to": a single day
    return out;
  });
  return { body: { name: form.name.trim(), time_zone: form.time_zone, week, holidays }, weekRows, holidayRows: form.holidays.map((x) => x.uid) };
}

// placeOf turns a refused field into where it is shown: key is an interval
// or holiday row, a day set to All day ("day-monday") or a form field; part
// is the input within a row ("" for the whole row).
function placeOf(field, sent) {
  const m = /^(week|holidays)\[(\d+)\](?:\.(\w+))?$/.exec(field || '');
  if (!m || !sent) return { key: field || '', part: '', row: false };
  const rows = m[1] === 'week' ? sent.weekRows : sent.holidayRows;
  const key = rows[Number(m[2])];
  return key ? { key, part: m[3] || '', row: true } : { key: m[1], part: '', row: false };
}

const FIELD_LABELS = { name: 'Name', time_zone: 'Time zone', week: 'Weekly hours', holidays: 'Holidays' };
const PART_LABELS = { '': 'This interval', start: 'Start', end: 'End', day: 'Day', name: 'Name', from: 'From', to: 'To' };

// endNote says where an interval ends when it is not later the same day.
function endNote(row, dayKey) {
  if (!row.start || !row.end || row.start === row.end) return '';
  if (row.end === '24:00' || row.end === '00:00') return 'until midnight';
  return row.end < row.start ? `overnight, until ${nextDay(dayKey).label} ${row.end}` : '';
}

function IntervalRow({ day, row, index, error, onChange, onRemove }) {
  const label = `${day.label}, interval ${index + 1}`;
  const errId = `hours-${row.uid}-error`;
  const note = endNote(row, day.key);
  const bad = (part) => (error && (error.part === part || error.part === '') ? 'true' : undefined);
  // 24:00 (the end of the day) shows as 00:00, which ends the interval at the same instant.
  return html`<div class="hours-interval" data-index=${index} data-row=${row.uid}>
    <input type="time" class="hours-start" step="60" value=${row.start} aria-label=${`${label}: start`}
      aria-invalid=${bad('start')} aria-describedby=${error ? errId : undefined}
      onInput=${(e) => onChange({ start: e.currentTarget.value })} />
    <span aria-hidden="true">–</span>
    <input type="time" class="hours-end" step="60" value=${row.end === '24:00' ? '00:00' : row.end} aria-label=${`${label}: end`}
      aria-invalid=${bad('end')} aria-describedby=${error ? errId : undefined}
      onInput=${(e) => onChange({ end: e.currentTarget.value })} />
    ${note ? html`<span class="hours-note">${note}</span>` : null}
    <button type="button" class="btn btn-small btn-ghost hours-remove" aria-label=${`Remove ${label}`} onClick=${onRemove}>Remove</button>
    <${FieldError} id=${errId} className="hours-error" message=${error && error.message} />
  </div>`;
}

function DayEditor({ day, value, errorAt, onChange }) {
  const ref = useRef(null);
  const allDayError = errorAt(`day-${day.key}`);
  const toggleAll = (on) => onChange((v) => ({
    ...v, allDay: on, rows: !on && !v.rows.length ? [{ uid: uid(), start: '09:00', end: '18:00' }] : v.rows,
  }));
  function add() {
    // A split shift usually starts when the previous interval ends.
    onChange((v) => {
      const last = v.rows[v.rows.length - 1];
      const start = last && last.end !== '24:00' ? last.end : v.rows.length ? '' : '09:00';
      return { ...v, rows: [...v.rows, { uid: uid(), start, end: '' }] };
    });
    requestAnimationFrame(() => {
      const rows = ref.current ? ref.current.querySelectorAll('.hours-interval') : [];
      const row = rows[rows.length - 1];
      const start = row && row.querySelector('.hours-start');
      const input = start && !start.value ? start : row && row.querySelector('.hours-end');
      if (input) input.focus();
    });
  }
  const setRow = (rowUid, patch) => onChange((v) => ({ ...v, rows: v.rows.map((r) => (r.uid === rowUid ? { ...r, ...patch } : r)) }));
  const removeRow = (rowUid) => onChange((v) => ({ ...v, rows: v.rows.filter((r) => r.uid !== rowUid) }));
  const nameId = `hours-day-${day.key}`;

  return html`<div class="hours-day" data-day=${day.key} role="group" aria-labelledby=${nameId} ref=${ref}>
    <span class="hours-day-name" id=${nameId}>${day.label}</span>
    <label class="check hours-all-day">
      <input type="checkbox" class="hours-all-day-input" checked=${value.allDay} aria-invalid=${allDayError ? 'true' : undefined}
        onChange=${(e) => toggleAll(e.currentTarget.checked)} />
      <span>All day</span>
    </label>
    <div class="hours-day-body">
      ${value.allDay ? html`<span class="muted hours-whole">00:00–24:00</span>`
        : value.rows.length ? value.rows.map((r, i) => html`<${IntervalRow} key=${r.uid} day=${day} row=${r} index=${i}
            error=${errorAt(r.uid)} onChange=${(patch) => setRow(r.uid, patch)} onRemove=${() => removeRow(r.uid)} />`)
          : html`<span class="muted hours-closed">Closed</span>`}
      <${FieldError} id=${`${nameId}-error`} className="hours-error" message=${allDayError && allDayError.message} />
      ${value.allDay ? null : html`<button type="button" class="btn btn-small hours-add-interval" onClick=${add}
        aria-label=${`Add an interval on ${day.label}`}>+ Interval</button>`}
    </div>
  </div>`;
}

function HolidayRow({ holiday, index, errorAt, onChange, onRemove }) {
  const error = errorAt(holiday.uid);
  const bad = (part) => (error && error.part === part ? 'true' : undefined);
  const id = (what) => `holiday-${holiday.uid}-${what}`;
  const errId = id('error');
  const described = error ? errId : undefined;
  return html`<div class="hours-holiday" data-index=${index} data-row=${holiday.uid}>
    <label class="field">
      <span>Name <span class="muted">(optional)</span></span>
      <input type="text" class="holiday-name" id=${id('name')} autocomplete="off" value=${holiday.name} placeholder="Christmas"
        aria-invalid=${bad('name')} aria-describedby=${described} onInput=${(e) => onChange({ name: e.currentTarget.value })} />
    </label>
    <label class="field">
      <span>From</span>
      <input type="date" class="holiday-from" id=${id('from')} value=${holiday.from}
        aria-invalid=${bad('from')} aria-describedby=${described} onInput=${(e) => onChange({ from: e.currentTarget.value })} />
    </label>
    <label class="field">
      <span>To <span class="muted">(optional)</span></span>
      <input type="date" class="holiday-to" id=${id('to')} value=${holiday.to} min=${holiday.from || undefined}
        aria-invalid=${bad('to')} aria-describedby=${described} onInput=${(e) => onChange({ to: e.currentTarget.value })} />
    </label>
    <label class="check holiday-yearly-box">
      <input type="checkbox" class="holiday-yearly" checked=${holiday.yearly} aria-invalid=${bad('yearly')}
        onChange=${(e) => onChange({ yearly: e.currentTarget.checked })} />
      <span>Every year</span>
    </label>
    <button type="button" class="btn btn-small btn-ghost holiday-remove" aria-label=${`Remove holiday ${holiday.name || index + 1}`}
      onClick=${onRemove}>Remove</button>
    <${FieldError} id=${errId} className="hours-error" message=${error && error.message} />
  </div>`;
}

function HoursForm({ hours, onSaved, onCancel }) {
  const { action, form, change, set, formRef } = useEditForm(() => formOf(hours), 'hours-name');
  const [zones] = useState(() => timeZones(form.time_zone));
  const sent = useRef(null); // what the last save sent, to place its errors

  const setDay = (key) => (fn) => change((f) => ({ ...f, days: { ...f.days, [key]: fn(f.days[key]) } }));
  const setHoliday = (hUid, patch) => change((f) => ({ ...f, holidays: f.holidays.map((x) => (x.uid === hUid ? { ...x, ...patch } : x)) }));

  // Where the refusal shows, and its text there. A refused row the user has
  // since removed takes its message with it.
  const place = action.error ? placeOf(action.error.field, sent.current) : null;
  const describe = (s) => s.replace(/week\[(\d+)\]/g, (all, i) => {
    const iv = sent.current && sent.current.body.week[Number(i)];
    return iv ? `${dayOf(iv.day).label} ${span(iv)}` : all;
  });
  const message = place ? fieldMessage(action.error, place.row ? PART_LABELS[place.part] || place.part : FIELD_LABELS[place.key], describe) : '';
  const errorAt = (key) => (place && place.key === key ? { part: place.part, message } : null);
  const errorOf = (key) => (place && place.key === key ? message : '');
  const inv = (key) => (place && place.key === key ? 'true' : undefined);
  const rowShown = (key) => (key.startsWith('day-') ? !!(form.days[key.slice(4)] || {}).allDay
    : form.holidays.some((x) => x.uid === key) || Object.values(form.days).some((d) => !d.allDay && d.rows.some((r) => r.uid === key)));
  const placed = place && (place.row ? rowShown(place.key) : place.key in FIELD_LABELS);
  const statusAction = !placed && place && place.row ? { ...action, error: null } // the refused row was removed
    : formStatus(action, placed);

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    const req = requestOf(form);
    sent.current = req;
    if (!req.body.name) return action.fail('Enter a name.', 'name');
    const i = req.body.week.findIndex((iv) => !iv.start || !iv.end);
    if (i >= 0) {
      const part = req.body.week[i].start ? 'end' : 'start';
      return action.fail(`Enter the ${part} time.`, `week[${i}].${part}`);
    }
    const j = req.body.holidays.findIndex((x) => !x.from);
    if (j >= 0) return action.fail('Enter the first day of the holiday.', `holidays[${j}].from`);
    const res = await action.run(() => (hours ? api.updateBusinessHours(hours.id, req.body) : api.createBusinessHours(req.body)),
      { pending: 'Saving…', done: '' });
    if (res.ok) onSaved(res.value, !hours);
  }

  return html`<form class="card form-card" id="hours-form" ref=${formRef} onSubmit=${submit} noValidate aria-labelledby="hours-form-title">
    <h2 id="hours-form-title">${hours ? `Edit business hours “${hours.name}”` : 'New business hours'}</h2>
    <div class="form-grid">
      <label class="field">
        <span>Name</span>
        <input id="hours-name" type="text" autocomplete="off" value=${form.name} placeholder="Office"
          aria-invalid=${inv('name')} aria-describedby=${errorOf('name') ? 'hours-name-error' : undefined}
          onInput=${(e) => set('name')(e.currentTarget.value)} />
        <${FieldError} id="hours-name-error" message=${errorOf('name')} />
      </label>
      <label class="field">
        <span>Time zone</span>
        <select id="hours-time-zone" value=${form.time_zone} aria-invalid=${inv('time_zone')}
          aria-describedby=${errorOf('time_zone') ? 'hours-time-zone-error' : undefined}
          onChange=${(e) => set('time_zone')(e.currentTarget.value)}>
          ${zones.map((z) => html`<option key=${z} value=${z}>${z}</option>`)}
        </select>
        <${FieldError} id="hours-time-zone-error" message=${errorOf('time_zone')} />
      </label>
    </div>
    <fieldset class="checks hours-week" id="hours-week" aria-invalid=${inv('week')} aria-describedby="hours-week-hint">
      <legend>Weekly hours</legend>
      <p class="hint" id="hours-week-hint">Times are read in the time zone above. An end earlier than the start runs
        overnight: Friday 22:00–06:00 ends on Saturday at 06:00. Several intervals on one day make a split shift; a day
        without any is closed. Intervals must not overlap.</p>
      <${FieldError} id="hours-week-error" message=${errorOf('week')} />
      <div class="hours-days">
        ${DAYS.map((d) => html`<${DayEditor} key=${d.key} day=${d} value=${form.days[d.key]} errorAt=${errorAt} onChange=${setDay(d.key)} />`)}
      </div>
    </fieldset>
    <fieldset class="checks hours-holidays" id="hours-holidays" aria-invalid=${inv('holidays')} aria-describedby="hours-holidays-hint">
      <legend>Holidays</legend>
      <p class="hint" id="hours-holidays-hint">No interval starts on a holiday (an overnight shift from the day before runs
        to its end). Leave “To” empty for a single day; a yearly holiday comes back on the same dates every year.</p>
      <${FieldError} id="hours-holidays-error" message=${errorOf('holidays')} />
      ${form.holidays.map((x, i) => html`<${HolidayRow} key=${x.uid} holiday=${x} index=${i} errorAt=${errorAt}
        onChange=${(patch) => setHoliday(x.uid, patch)}
        onRemove=${() => change((f) => ({ ...f, holidays: f.holidays.filter((y) => y.uid !== x.uid) }))} />`)}
      <div>
        <button type="button" class="btn btn-small" id="hours-add-holiday"
          onClick=${() => change((f) => ({ ...f, holidays: [...f.holidays, { uid: uid(), name: '', from: '', to: '', yearly: false }] }))}>
          + Holiday</button>
      </div>
    </fieldset>
    <div class="form-actions">
      <button id="hours-save" type="submit" class="btn btn-primary" disabled=${action.busy}>
        ${action.busy ? 'Saving…' : hours ? 'Save business hours' : 'Add business hours'}</button>
      <button id="hours-cancel" type="button" class="btn btn-ghost" disabled=${action.busy} onClick=${onCancel}>Cancel</button>
      <${Status} action=${statusAction} id="hours-form-status" />
    </div>
  </form>`;
}

// The default first, then by name, as the server lists them.
const sorted = (list) => list.slice().sort((a, b) => (b.default - a.default) || a.name.localeCompare(b.name) || a.id - b.id);

function HoursRow({ hours, busy, confirming, editing, onEdit, onAskDelete, onCancelDelete, onDelete }) {
  const holidays = (hours.holidays || []).length;
  const edit = html`<button type="button" class="btn btn-small hours-edit" data-action="edit" disabled=${busy} onClick=${onEdit}>Edit</button>`;
  return html`<tr data-hours-id=${hours.id} data-hours-name=${hours.name} class=${editing ? 'row-editing' : ''}>
    <td class="cell-name"><span class="hours-name">${hours.name}</span>${hours.default
      ? html` <span class="badge badge-admin hours-default" title="Used by the default SLA policy; cannot be deleted">Default</span>` : null}</td>
    <td class="hours-zone">${hours.time_zone}</td>
    <td class="hours-summary">${weekSummary(hours.week)}</td>
    <td class="hours-holidays-count cell-count">${holidays ? `${holidays} holiday${holidays === 1 ? '' : 's'}` : html`<span class="muted">—</span>`}</td>
    ${hours.default ? html`<td class="cell-actions"><div class="row-actions">${edit}</div></td>`
      : html`<${RowActions} question="Delete these business hours?" busy=${busy} confirming=${confirming} deleteClass="hours-delete"
          onAskDelete=${onAskDelete} onCancelDelete=${onCancelDelete} onDelete=${onDelete}>${edit}<//>`}
  </tr>`;
}

export function BusinessHoursPage() {
  const list = useList(async () => sorted(await api.listBusinessHours()));
  const [editing, setEditing] = useState(null); // {hours} (null hours: new ones)
  const [formSeq, setFormSeq] = useState(0);
  const [confirmId, setConfirmId] = useState(null);
  const [notice, setNotice] = useState('');
  const action = useAction();

  function open(hours) {
    setNotice('');
    setConfirmId(null);
    action.reset();
    setFormSeq((n) => n + 1);
    setEditing({ hours });
  }

  function saved(h, isNew) {
    list.setItems((items) => sorted(isNew ? [...(items || []), h] : (items || []).map((x) => (x.id === h.id ? h : x))));
    setEditing(null);
    setNotice(isNew ? `Business hours “${h.name}” added.` : `Business hours “${h.name}” saved.`);
  }

  async function remove(h) {
    setNotice('');
    setConfirmId(null);
    const res = await action.run(() => api.deleteBusinessHours(h.id), { pending: 'Deleting…', done: `Business hours “${h.name}” deleted.` });
    if (res.ok) {
      list.setItems((items) => (items || []).filter((x) => x.id !== h.id));
      if (editing && editing.hours && editing.hours.id === h.id) setEditing(null);
    }
  }

  // A refusal (409: in use by a policy, or the default) reads as a sentence.
  const listAction = asSentence(action);
  return html`<div class="admin-page" id="settings-hours">
    <div class="page-tools">
      <p class="intro muted">SLA clocks run only within a policy's business hours: outside them, and on holidays, the time to answer stands still.</p>
      <button type="button" id="hours-add" class="btn btn-primary" disabled=${!list.items} onClick=${() => open(null)}>Add business hours</button>
    </div>
    <${ListBody} list=${list} loading="Loading business hours…" emptyId="hours-empty" empty="No business hours yet.">
      ${(items) => html`<table class="table" id="hours-list">
        <thead><tr><th>Name</th><th>Time zone</th><th>Hours</th><th>Holidays</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${items.map((h) => html`<${HoursRow} key=${h.id} hours=${h} busy=${action.busy} confirming=${confirmId === h.id}
            editing=${editing && editing.hours && editing.hours.id === h.id}
            onEdit=${() => open(h)}
            onAskDelete=${() => { setNotice(''); action.reset(); setConfirmId(h.id); }}
            onCancelDelete=${() => setConfirmId(null)}
            onDelete=${() => remove(h)} />`)}
        </tbody>
      </table>`}
    <//>
    <${Status} action=${listAction} id="hours-list-status" />
    ${notice ? html`<p class="status status-ok" id="hours-status" role="status">${notice}</p>` : null}
    ${editing ? html`<${HoursForm} key=${`${editing.hours ? editing.hours.id : 'new'}-${formSeq}`} hours=${editing.hours}
      onSaved=${saved} onCancel=${() => setEditing(null)} />` : null}
  </div>`;
}
