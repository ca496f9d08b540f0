// Management › Statistics: what the team did over a period — requests,
// response times in business and calendar time, SLA compliance with the
// breached requests, each agent's figures, and when and where requests came.
// The four views load side by side; every table downloads as CSV.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { agents, useResource } from '../directory.js';
import { dateTime, seconds } from '../format.js';
import { ChannelBadge } from '../lists.js';
import { EmptyState } from '../ui.js';
import { DaysChart, HeatMap, periodLabel } from './statcharts.js';

const PERIODS = [
  { key: 'today', label: 'Today' },
  { key: 'yesterday', label: 'Yesterday' },
  { key: '7d', label: '7 days' },
  { key: '30d', label: '30 days' },
  { key: 'custom', label: 'Custom' },
];

const FILTERS = ['channel_id', 'department_id', 'group_id', 'agent_id'];

// The toolbar control a validation error of the server names.
const FIELD_IDS = {
  period: 'stats-period', from: 'stats-from', to: 'stats-to',
  channel_id: 'stats-channel', department_id: 'stats-department', group_id: 'stats-group', agent_id: 'stats-agent',
};

const METRICS = [
  { key: 'new', label: 'New', hint: 'Requests created in the period' },
  { key: 'closed', label: 'Closed', hint: 'Requests closed in the period' },
  { key: 'transferred', label: 'Transferred', hint: 'Requests handed to another agent (each request once)' },
  { key: 'missed', label: 'Missed', hint: 'Requests closed before any agent reply' },
  { key: 'reopened', label: 'Reopened', hint: "Requests created within a day of the same client's previous request closing" },
];

const TIMES = [
  { key: 'first_response', label: 'First response', hint: 'From assignment to the agent’s first reply' },
  { key: 'reply', label: 'Reply', hint: 'From a client’s message to the agent’s next reply' },
  { key: 'resolution', label: 'Resolution', hint: 'From the request’s creation to its closing' },
];
const STATS = [
  { key: 'average', label: 'Average' },
  { key: 'median', label: 'Median' },
  { key: 'p90', label: '90th percentile' },
];
const BASES = [
  { key: 'business', label: 'Business time' },
  { key: 'calendar', label: 'Calendar time' },
];

const TARGETS = [
  { key: 'first_response', label: 'First response' },
  { key: 'next_response', label: 'Next response' },
  { key: 'resolution', label: 'Resolution' },
];
const targetLabel = (k) => (TARGETS.find((t) => t.key === k) || {}).label || k;

const VIEWS = {
  summary: api.statsSummary,
  agents: api.statsAgents,
  load: api.statsLoad,
  breaches: (params) => api.statsBreaches(params),
};
const VIEW_NAMES = Object.keys(VIEWS);
const NO_VIEW = { data: null, params: null, error: null };

// paramsOf turns the toolbar's query into the views' query parameters.
function paramsOf(q) {
  const p = { period: q.period };
  if (q.period === 'custom') {
    p.from = q.from;
    p.to = q.to;
  }
  for (const k of FILTERS) if (q[k]) p[k] = q[k];
  return p;
}

function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

const none = () => html`<span class="muted">—</span>`;
const time = (v) => (v === null || v === undefined ? none() : seconds(v));
const count = (n) => (Number(n) || 0).toLocaleString();

function percent(met, breached) {
  const total = (Number(met) || 0) + (Number(breached) || 0);
  if (!total) return null;
  return (100 * (Number(met) || 0)) / total;
}
const percentText = (p) => `${p.toFixed(1).replace(/\.0$/, '')}%`;

// isEmpty: nothing happened in the period (with these filters).
function isEmpty(sum) {
  const r = sum.requests || {};
  return !METRICS.some((m) => r[m.key])
    && TIMES.every((t) => !(sum.times && sum.times[t.key] && sum.times[t.key].calendar.count))
    && TARGETS.every((t) => {
      const c = (sum.sla && sum.sla[t.key]) || {};
      return !(c.met || c.breached || c.in_progress);
    });
}

function CsvLink({ view, params, table, label }) {
  if (!params) return null;
  return html`<a class="btn btn-small btn-ghost stats-csv" href=${api.statsCSVURL(view, params, table)} download=""
    data-csv=${table ? `${view}-${table}` : view} aria-label=${`Download ${label} as CSV`} title="Download as CSV">CSV</a>`;
}

// ViewState is what a section shows before its view has answered, or when
// its first answer failed (a failed refresh shows once, above the sections).
function ViewState({ view, what, retry }) {
  if (view.data) return null;
  if (view.error) {
    return html`<div class="stats-error">
      <p class="status status-error" role="alert">Could not load the ${what}: ${view.error.message}</p>
      <button type="button" class="btn btn-small stats-retry" onClick=${retry}>Try again</button>
    </div>`;
  }
  return html`<p class="muted stats-loading" role="status">Loading the ${what}…</p>`;
}

function Section({ id, title, children, tools, className = '' }) {
  return html`<section class=${`stats-section ${className}`} id=${id} aria-labelledby=${`${id}-title`}>
    <div class="stats-head">
      <h2 id=${`${id}-title`}>${title}</h2>
      ${tools ? html`<div class="stats-tools">${tools}</div>` : null}
    </div>
    ${children}
  </section>`;
}

function RequestCards({ requests }) {
  return html`<div class="stats-cards">
    ${METRICS.map((m) => html`<div class="stats-card" key=${m.key} data-metric=${m.key} title=${m.hint}>
      <span class="stats-card-value">${count(requests[m.key])}</span>
      <span class="stats-card-label">${m.label}</span>
    </div>`)}
  </div>`;
}

function TimesTable({ times }) {
  return html`<div class="table-wrap"><table class="table table-compact stats-times-table" id="stats-times-table">
    <thead>
      <tr>
        <th rowspan="2" scope="col">Time</th>
        <th rowspan="2" scope="col" title="How many times were measured">Measured</th>
        ${BASES.map((b) => html`<th key=${b.key} colspan=${STATS.length} scope="colgroup" class=${`stats-group stats-group-${b.key}`}>${b.label}</th>`)}
      </tr>
      <tr>
        ${BASES.map((b) => STATS.map((s) => html`<th key=${`${b.key}-${s.key}`} scope="col"
          class=${`stats-num${s.key === 'average' ? ' stats-group-start' : ''}`}>${s.label}</th>`))}
      </tr>
    </thead>
    <tbody>
      ${TIMES.map((t) => {
        const row = (times && times[t.key]) || {};
        return html`<tr key=${t.key} data-time=${t.key}>
          <th scope="row" class="cell-name" title=${t.hint}>${t.label}</th>
          <td class="cell-count" data-stat="count">${count((row.calendar || {}).count)}</td>
          ${BASES.map((b) => STATS.map((s) => html`<td key=${`${b.key}-${s.key}`} data-basis=${b.key} data-stat=${s.key}
            class=${`cell-count stats-num${s.key === 'average' ? ' stats-group-start' : ''}`}>${time((row[b.key] || {})[s.key])}</td>`))}
        </tr>`;
      })}
    </tbody>
  </table></div>`;
}

function SlaTable({ sla }) {
  return html`<div class="table-wrap"><table class="table table-compact" id="stats-sla-table">
    <thead><tr>
      <th scope="col">Target</th>
      <th scope="col" class="stats-num">Met</th><th scope="col" class="stats-num">Breached</th><th scope="col" class="stats-num">In progress</th>
      <th scope="col" title="Met ÷ (met + breached)">Compliance</th>
    </tr></thead>
    <tbody>
      ${TARGETS.map((t) => {
        const c = (sla && sla[t.key]) || {};
        const p = percent(c.met, c.breached);
        return html`<tr key=${t.key} data-target=${t.key}>
          <th scope="row" class="cell-name">${t.label}</th>
          <td class="cell-count stats-num" data-field="met">${count(c.met)}</td>
          <td class="cell-count stats-num" data-field="breached">${count(c.breached)}</td>
          <td class="cell-count stats-num" data-field="in_progress">${count(c.in_progress)}</td>
          <td class="stats-compliance" data-field="compliance">${p === null
            ? html`<span class="muted" title="No request reached or missed this target">—</span>`
            : html`<span class="stats-bar" aria-hidden="true"><span class="stats-bar-met" style=${`width: ${p}%`}></span></span>
              <span class="cell-count stats-percent">${percentText(p)}</span>`}</td>
        </tr>`;
      })}
    </tbody>
  </table></div>`;
}

function BreachRow({ b }) {
  return html`<tr data-conversation-id=${b.id}>
    <td class="chat-request">
      <a href=${`#/c/${b.id}`} class="chat-number" title="Open the request">#${b.id}</a>
      ${b.subject ? html`<span class="cell-sub" title=${b.subject}>${b.subject}</span>` : null}
    </td>
    <td class="cell-name" data-field="client">${b.client_name || 'Client'}</td>
    <td data-field="channel"><${ChannelBadge} kind=${b.channel_kind} /></td>
    <td data-field="agent">${b.assignee_name || html`<span class="tag tag-unassigned">Unassigned</span>`}</td>
    <td data-field="policy">${b.policy || none()}</td>
    <td data-field="targets">${(b.targets || []).map((k) => html`<span class="tag stats-breach-tag" key=${k} data-target=${k}>${targetLabel(k)}</span>`)}</td>
    <td data-field="created" class="cell-count">${b.created_at ? dateTime(b.created_at) : none()}</td>
  </tr>`;
}

function AgentsTable({ rows }) {
  return html`<div class="table-wrap"><table class="table table-compact" id="stats-agents-table">
    <thead><tr>
      <th scope="col">Agent</th>
      <th scope="col" class="stats-num" title="Requests the agent replied in">Handled</th>
      <th scope="col" class="stats-num">Replies</th>
      <th scope="col" class="stats-num" title="Average time from assignment to the agent's first reply">First response, avg</th>
      <th scope="col" class="stats-num" title="Average time from a client's message to the agent's reply">Reply time, avg</th>
      <th scope="col" class="stats-num">Online</th><th scope="col" class="stats-num">Away</th><th scope="col" class="stats-num">Offline</th>
    </tr></thead>
    <tbody>
      ${rows.map((a) => html`<tr key=${a.id} data-agent-id=${a.id}>
        <th scope="row" class="cell-name" data-field="name">${a.name}</th>
        <td class="cell-count stats-num" data-field="handled">${count(a.handled)}</td>
        <td class="cell-count stats-num" data-field="replies">${count(a.replies)}</td>
        <td class="cell-count stats-num" data-field="first_response">${time(a.first_response_seconds)}</td>
        <td class="cell-count stats-num" data-field="reply">${time(a.reply_seconds)}</td>
        <td class="cell-count stats-num" data-field="online">${seconds(a.online_seconds)}</td>
        <td class="cell-count stats-num" data-field="away">${seconds(a.away_seconds)}</td>
        <td class="cell-count stats-num" data-field="offline">${seconds(a.offline_seconds)}</td>
      </tr>`)}
    </tbody>
  </table></div>`;
}

function ChannelsTable({ rows }) {
  return html`<div class="table-wrap"><table class="table table-compact" id="stats-channels-table">
    <thead><tr>
      <th scope="col">Channel</th><th scope="col">Kind</th>
      <th scope="col" class="stats-num">New</th><th scope="col" class="stats-num">Closed</th><th scope="col" class="stats-num">Missed</th>
      <th scope="col" class="stats-num">First response, avg</th>
    </tr></thead>
    <tbody>
      ${rows.map((c) => html`<tr key=${c.id} data-channel-id=${c.id}>
        <th scope="row" class="cell-name" data-field="name">${c.name}</th>
        <td data-field="kind"><${ChannelBadge} kind=${c.kind} /></td>
        <td class="cell-count stats-num" data-field="new">${count(c.new)}</td>
        <td class="cell-count stats-num" data-field="closed">${count(c.closed)}</td>
        <td class="cell-count stats-num" data-field="missed">${count(c.missed)}</td>
        <td class="cell-count stats-num" data-field="first_response">${time(c.first_response_seconds)}</td>
      </tr>`)}
    </tbody>
  </table></div>`;
}

function FieldError({ invalid, field }) {
  if (!invalid || invalid.field !== field) return null;
  return html`<small class="field-error" id=${`${FIELD_IDS[field]}-error`} role="alert">${sentence(invalid.message)}</small>`;
}

// useLookups loads the filters' channels, departments and groups; a list
// the signed-in agent may not read leaves its filter with "All" only.
function useLookups() {
  const [lists, setLists] = useState({ channels: [], departments: [], groups: [] });
  useEffect(() => {
    let alive = true;
    const loaders = { channels: api.listChannels, departments: api.listDepartments, groups: api.listGroups };
    for (const [k, load] of Object.entries(loaders)) {
      load().then((list) => alive && setLists((l) => ({ ...l, [k]: list || [] })), () => {});
    }
    return () => { alive = false; };
  }, []);
  return lists;
}

export function StatisticsPage() {
  const [query, setQuery] = useState({ period: '7d', from: '', to: '', channel_id: '', department_id: '', group_id: '', agent_id: '' });
  const [mode, setMode] = useState('7d'); // the pressed period button (Custom before Apply too)
  const [draft, setDraft] = useState({ from: '', to: '' });
  const [views, setViews] = useState({ summary: NO_VIEW, agents: NO_VIEW, load: NO_VIEW, breaches: NO_VIEW });
  const [pending, setPending] = useState(0);
  const [invalid, setInvalid] = useState(null); // {field, message}
  const [more, setMore] = useState({ busy: false, error: null });
  const seq = useRef(0);
  const agentList = useResource(agents);
  const lookups = useLookups();

  // load asks the four views at once; each shows as soon as it answers. A
  // validation error names a toolbar field and keeps the figures shown.
  function load(q) {
    const mine = ++seq.current;
    const params = paramsOf(q);
    setPending(VIEW_NAMES.length);
    setMore({ busy: false, error: null });
    for (const name of VIEW_NAMES) {
      VIEWS[name](params).then((data) => {
        if (mine !== seq.current) return;
        setInvalid(null);
        setViews((v) => ({ ...v, [name]: { data, params, error: null } }));
      }, (error) => {
        if (mine !== seq.current) return;
        if (error.status === 422 && FIELD_IDS[error.field]) setInvalid({ field: error.field, message: error.message });
        else setViews((v) => ({ ...v, [name]: { ...v[name], error } }));
      }).finally(() => {
        if (mine === seq.current) setPending((n) => Math.max(0, n - 1));
      });
    }
  }
  useEffect(() => { load(query); }, [query]);
  const reload = () => load(query);

  async function loadMoreBreaches() {
    const b = views.breaches;
    const next = b.data && b.data.next;
    if (!next || more.busy) return;
    const mine = seq.current;
    setMore({ busy: true, error: null });
    try {
      const res = await api.statsBreaches(b.params, next);
      if (mine !== seq.current) return;
      setViews((v) => {
        const old = (v.breaches.data && v.breaches.data.requests) || [];
        const seen = new Set(old.map((r) => r.id));
        const requests = [...old, ...(res.requests || []).filter((r) => !seen.has(r.id))];
        return { ...v, breaches: { ...v.breaches, data: { ...res, requests } } };
      });
      setMore({ busy: false, error: null });
    } catch (error) {
      if (mine === seq.current) setMore({ busy: false, error });
    }
  }

  function pickPeriod(key) {
    setMode(key);
    if (key === 'custom') {
      const p = shownPeriod();
      if (!draft.from && !draft.to && p) setDraft({ from: p.first_day, to: p.last_day });
      return;
    }
    setQuery((q) => ({ ...q, period: key }));
  }

  function applyCustom(e) {
    e.preventDefault();
    setQuery((q) => ({ ...q, period: 'custom', from: draft.from, to: draft.to }));
  }

  const changeFilter = (key) => (e) => {
    const value = e.currentTarget.value;
    setQuery((q) => ({ ...q, [key]: value }));
  };

  const shownPeriod = () => {
    for (const name of VIEW_NAMES) {
      const d = views[name].data;
      if (d && d.period) return d.period;
    }
    return null;
  };
  const period = shownPeriod();
  const filtered = FILTERS.some((k) => query[k]);

  const inv = (field) => (invalid && invalid.field === field ? 'true' : undefined);
  const described = (field) => (invalid && invalid.field === field ? `${FIELD_IDS[field]}-error` : undefined);
  const filter = (key, label, allLabel, options) => html`<label class="filter stats-filter">
    <span>${label}</span>
    <select id=${FIELD_IDS[key]} value=${query[key]} onChange=${changeFilter(key)} aria-invalid=${inv(key)} aria-describedby=${described(key)}>
      <option value="">${allLabel}</option>
      ${options.map((o) => html`<option key=${o.id} value=${String(o.id)}>${o.name}</option>`)}
    </select>
    <${FieldError} invalid=${invalid} field=${key} />
  </label>`;

  const toolbar = html`<div class="card stats-toolbar" id="stats-toolbar">
    <div class="stats-toolbar-row">
      <div class="stats-periods" role="group" aria-label="Period" id="stats-period" aria-describedby=${described('period')}>
        ${PERIODS.map((p) => html`<button type="button" key=${p.key} data-period=${p.key}
          class=${`btn btn-small${mode === p.key ? ' is-active' : ''}`} aria-pressed=${mode === p.key ? 'true' : 'false'}
          onClick=${() => pickPeriod(p.key)}>${p.label}</button>`)}
      </div>
      <${FieldError} invalid=${invalid} field="period" />
      <p class="muted stats-period-label" id="stats-period-label">${period ? periodLabel(period) : ''}</p>
      <span class="status status-pending stats-updating" id="stats-loading" role="status">${pending ? 'Updating…' : ''}</span>
      <button type="button" class="btn btn-small" id="stats-refresh" disabled=${pending > 0} onClick=${reload}>Refresh</button>
    </div>
    ${mode === 'custom' ? html`<form class="stats-custom" id="stats-custom" onSubmit=${applyCustom} noValidate>
      <label class="field stats-date"><span>From</span>
        <input type="date" id="stats-from" value=${draft.from} aria-invalid=${inv('from')} aria-describedby=${described('from')}
          onInput=${(e) => setDraft((d) => ({ ...d, from: e.currentTarget.value }))} />
        <${FieldError} invalid=${invalid} field="from" />
      </label>
      <label class="field stats-date"><span>To</span>
        <input type="date" id="stats-to" value=${draft.to} aria-invalid=${inv('to')} aria-describedby=${described('to')}
          onInput=${(e) => setDraft((d) => ({ ...d, to: e.currentTarget.value }))} />
        <${FieldError} invalid=${invalid} field="to" />
      </label>
      <button type="submit" class="btn btn-small btn-primary" id="stats-apply">Apply</button>
    </form>` : null}
    <div class="filters stats-filters" id="stats-filters">
      ${filter('channel_id', 'Channel', 'All channels', lookups.channels)}
      ${filter('department_id', 'Department', 'All departments', lookups.departments)}
      ${filter('group_id', 'Group', 'All groups', lookups.groups)}
      ${filter('agent_id', 'Agent', 'All agents', agentList || [])}
    </div>
  </div>`;

  const { summary, load: loadView, breaches } = views;
  const stale = VIEW_NAMES.map((name) => views[name]).find((v) => v.data && v.error);
  const refreshError = stale ? stale.error : null;
  const sum = summary.data;
  const empty = !!sum && !summary.error && isEmpty(sum);
  const sp = summary.params;
  const lp = loadView.params;

  const requestsSection = html`<${Section} id="stats-requests" title="Requests"
    tools=${html`<${CsvLink} view="summary" table="requests" params=${sp} label="the requests" />`}>
    <${ViewState} view=${summary} what="requests" retry=${reload} />
    ${sum ? html`<${RequestCards} requests=${sum.requests || {}} />` : null}
  <//>`;

  // Without the summary the times and SLA have nothing to show; its error shows under Requests.
  const summaryFailed = !sum && !!summary.error;
  const timesSection = summaryFailed ? null : html`<${Section} id="stats-times" title="Response and resolution times"
    tools=${html`<${CsvLink} view="summary" table="times" params=${sp} label="the times" />`}>
    <${ViewState} view=${summary} what="times" retry=${reload} />
    ${sum ? html`<${TimesTable} times=${sum.times} />
      <p class="hint">Business time counts only the business hours of the request’s SLA policy (every hour without one); calendar time counts every second.
        Median and 90th percentile by the nearest rank.</p>` : null}
  <//>`;

  const list = (breaches.data && breaches.data.requests) || [];
  const slaSection = summaryFailed ? null : html`<${Section} id="stats-sla" title="SLA compliance"
    tools=${html`<${CsvLink} view="summary" table="sla" params=${sp} label="the SLA compliance" />`}>
    <${ViewState} view=${summary} what="SLA compliance" retry=${reload} />
    ${sum ? html`<${SlaTable} sla=${sum.sla} />
      <p class="hint">Requests created in the period whose SLA policy measures the target. Compliance is met ÷ (met + breached).</p>` : null}
  <//>`;

  const breachesSection = html`<${Section} id="stats-breaches" title="Breached requests"
    tools=${html`<${CsvLink} view="breaches" params=${breaches.params} label="the breached requests" />`}>
    <${ViewState} view=${breaches} what="breached requests" retry=${reload} />
    ${breaches.data ? (list.length
      ? html`<div class="table-wrap stats-breaches-wrap"><table class="table table-compact" id="stats-breaches-table">
          <thead><tr>
            <th scope="col">Request</th><th scope="col">Client</th><th scope="col">Channel</th><th scope="col">Agent</th>
            <th scope="col">Policy</th><th scope="col">Breached</th><th scope="col">Created</th>
          </tr></thead>
          <tbody>${list.map((b) => html`<${BreachRow} key=${b.id} b=${b} />`)}</tbody>
        </table></div>`
      : html`<p class="muted" id="stats-breaches-empty">No request created in this period breached an SLA target.</p>`) : null}
    ${more.error ? html`<p class="status status-error" role="alert">${more.error.message}</p>` : null}
    ${breaches.data && breaches.data.next ? html`<div class="list-foot">
      <button type="button" class="btn btn-small" id="stats-breaches-more" disabled=${more.busy} onClick=${loadMoreBreaches}>
        ${more.busy ? 'Loading…' : 'Load more'}</button>
    </div>` : null}
  <//>`;

  const agentRows = (views.agents.data && views.agents.data.agents) || [];
  const agentsSection = html`<${Section} id="stats-agents" title="Agents"
    tools=${html`<${CsvLink} view="agents" params=${views.agents.params} label="the agents" />`}>
    <${ViewState} view=${views.agents} what="agents" retry=${reload} />
    ${views.agents.data ? (agentRows.length
      ? html`<${AgentsTable} rows=${agentRows} />
        <p class="hint">Replies and times by when the replies were written; online, away and offline time within the period.</p>`
      : html`<p class="muted" id="stats-agents-empty">No agents ${query.agent_id ? 'match this filter' : 'with access to Omnichannel'}.</p>`) : null}
  <//>`;

  const ld = loadView.data;
  const days = (ld && ld.days) || [];
  const hasDays = days.some((d) => d.new || d.closed);
  const heat = (ld && ld.heatmap) || [];
  const hasHeat = heat.some((row) => row.some((n) => n));
  const channels = (ld && ld.channels) || [];
  const loadSection = html`<${Section} id="stats-load" title="Requests per day"
    tools=${html`<${CsvLink} view="load" table="days" params=${lp} label="the requests per day" />`}>
    <${ViewState} view=${loadView} what="requests per day" retry=${reload} />
    ${ld ? (hasDays
      ? html`<div class="card stats-chart-card"><${DaysChart} id="stats-days-chart" days=${days} /></div>`
      : html`<p class="muted" id="stats-days-empty">No request was created or closed on these days.</p>`) : null}
  <//>`;
  const heatSection = html`<${Section} id="stats-heat" title="New requests by weekday and hour"
    tools=${html`<${CsvLink} view="load" table="heatmap" params=${lp} label="the heat map" />`}>
    ${ld ? (hasHeat
      ? html`<${HeatMap} id="stats-heatmap" heatmap=${heat} timeZone=${ld.period && ld.period.time_zone} />
        <p class="hint">Hours in the team’s time zone${ld.period ? ` (${ld.period.time_zone})` : ''}; the darker, the more requests.</p>`
      : html`<p class="muted" id="stats-heatmap-empty">No new requests in this period.</p>`) : null}
  <//>`;
  const channelsSection = html`<${Section} id="stats-channels" title="Channels"
    tools=${html`<${CsvLink} view="load" table="channels" params=${lp} label="the channels" />`}>
    ${ld ? (channels.length
      ? html`<${ChannelsTable} rows=${channels} />`
      : html`<p class="muted" id="stats-channels-empty">No channel had requests in this period.</p>`) : null}
  <//>`;

  return html`<div class="admin-page stats-page" id="management-statistics" aria-busy=${pending > 0 ? 'true' : 'false'}>
    ${toolbar}
    ${refreshError ? html`<div class="stats-error banner" id="stats-error">
      <p class="status status-error" role="alert">Could not refresh the statistics: ${refreshError.message}</p>
      <button type="button" class="btn btn-small stats-retry" onClick=${reload}>Try again</button>
    </div>` : null}
    ${empty ? html`<${EmptyState} id="stats-empty">${filtered
      ? 'No requests in this period match these filters. Pick a longer period or other filters.'
      : 'No requests in this period. Pick a longer period.'}<//>` : null}
    ${empty ? null : html`${requestsSection}${timesSection}${slaSection}${breachesSection}`}
    ${agentsSection}
    ${empty ? null : html`${loadSection}${heatSection}${channelsSection}`}
  </div>`;
}
