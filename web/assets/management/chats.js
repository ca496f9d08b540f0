// Management › Active chats: every open live request with its agent, how
// long it has run and who wrote last; supervisors open, reassign or return
// them to the queue. Kept current by live events and a 10 s tick.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { agentName, agents, useResource } from '../directory.js';
import { seconds, useNow } from '../format.js';
import { ChannelBadge } from '../lists.js';
import { putRow } from '../live.js';
import { KIND_LABELS } from '../nav.js';
import { SlaClock } from '../sla.js';
import { TransferDialog } from '../chat.js';
import { EmptyState } from '../ui.js';
import { isConversationEvent, useLiveRefresh } from './refresh.js';

const PAGE = 50;

const SORTS = [
  { value: 'duration', label: 'Longest running first' },
  { value: 'activity', label: 'Latest message first' },
  { value: 'created', label: 'Newest first' },
];

// Who wrote the last message, by its kind.
const WRITER = { client: 'client', reply: 'agent', note: 'agent, note', event: 'system', transcript: 'system' };

// A full request in an answer updates the live store (lists, counters).
const isRequest = (c) => !!(c && c.id && c.channel_kind && c.created_at);

const elapsed = (iso, now) => (iso ? seconds((now - Date.parse(iso)) / 1000) : '—');

function ChatRow({ c, now, agentList, departmentName, busy, onReassign, onUnassign }) {
  const writer = WRITER[c.last_message_kind] || '';
  const assignee = c.assignee_name || (c.assignee_id ? agentName(agentList, c.assignee_id) : '');
  return html`<tr data-conversation-id=${c.id} class=${c.assignee_id ? '' : 'row-unassigned'}>
    <td class="chat-request">
      <a href=${`#/c/${c.id}`} class="chat-number" title="Open the chat">#${c.id}</a>
      ${c.subject ? html`<span class="cell-sub chat-subject-line" title=${c.subject}>${c.subject}</span>` : null}
    </td>
    <td class="cell-name chat-client">${c.client_name || 'Client'}</td>
    <td class="chat-agent">${assignee
      ? html`<span class="assignee">${assignee}</span>`
      : html`<span class="tag tag-unassigned">Unassigned</span>`}</td>
    <td class="chat-channel"><${ChannelBadge} kind=${c.channel_kind} /></td>
    <td class="chat-department">${c.department_id ? departmentName(c.department_id) : html`<span class="muted">—</span>`}</td>
    <td class="cell-count chat-duration" title=${c.created_at ? `Started ${new Date(c.created_at).toLocaleString()}` : undefined}>
      ${elapsed(c.created_at, now)}</td>
    <td class="chat-sla"><${SlaClock} c=${c} /></td>
    <td class="chat-last" data-writer=${writer}>
      <span class="cell-count chat-last-time" title=${c.last_message_at ? new Date(c.last_message_at).toLocaleString() : undefined}>
        ${c.last_message_at ? `${elapsed(c.last_message_at, now)} ago` : '—'}</span>
      ${writer ? html`<span class="cell-sub chat-last-writer">${writer}</span>` : null}
    </td>
    <td class="cell-actions"><div class="row-actions chat-actions">
      <a class="btn btn-small chat-open" href=${`#/c/${c.id}`}>Open</a>
      <button type="button" class="btn btn-small chat-reassign" disabled=${busy} onClick=${() => onReassign(c)}>Reassign</button>
      ${c.assignee_id ? html`<button type="button" class="btn btn-small chat-unassign" disabled=${busy}
        title="Return the request to the Unassigned queue" onClick=${() => onUnassign(c)}>Back to queue</button>` : null}
    </div></td>
  </tr>`;
}

export function ActiveChatsPage() {
  const [filter, setFilter] = useState({ department_id: '', channel: '', sort: 'duration' });
  const [state, setState] = useState({ chats: null, next: '', error: null, loadingMore: false });
  const [departments, setDepartments] = useState([]);
  const [reassigning, setReassigning] = useState(null);
  const [busyId, setBusyId] = useState(0);
  const [actionError, setActionError] = useState('');
  const [notice, setNotice] = useState('');
  const agentList = useResource(agents);
  const now = useNow(1000);
  const seq = useRef(0);
  const filterRef = useRef(filter);
  filterRef.current = filter;
  const countRef = useRef(0);
  countRef.current = state.chats ? state.chats.length : 0;

  useEffect(() => {
    let alive = true;
    api.listDepartments().then((d) => alive && setDepartments(d), () => {});
    return () => { alive = false; };
  }, []);

  // refresh reads the list again from the start, as many rows as are shown.
  async function refresh() {
    const mine = ++seq.current;
    try {
      const res = await api.listActiveChats({ ...filterRef.current, limit: Math.max(PAGE, countRef.current) });
      if (mine !== seq.current) return;
      setState((s) => ({ ...s, chats: res.chats || [], next: res.next || '', error: null }));
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ ...s, error }));
    }
  }

  async function loadMore() {
    if (!state.next || state.loadingMore) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, loadingMore: true }));
    try {
      const res = await api.listActiveChats({ ...filterRef.current, cursor: state.next, limit: PAGE });
      if (mine !== seq.current) {
        setState((s) => ({ ...s, loadingMore: false })); // a refresh or a new filter won
        return;
      }
      setState((s) => {
        const seen = new Set((s.chats || []).map((c) => c.id));
        return { ...s, chats: [...(s.chats || []), ...(res.chats || []).filter((c) => !seen.has(c.id))], next: res.next || '', error: null, loadingMore: false };
      });
    } catch (error) {
      setState((s) => (mine === seq.current ? { ...s, error, loadingMore: false } : { ...s, loadingMore: false }));
    }
  }

  useLiveRefresh(refresh, { match: isConversationEvent });

  function changeFilter(key) {
    return (e) => {
      const value = e.currentTarget.value;
      filterRef.current = { ...filterRef.current, [key]: value };
      countRef.current = 0;
      setFilter(filterRef.current);
      setState({ chats: null, next: '', error: null, loadingMore: false });
      refresh();
    };
  }

  async function unassign(c) {
    setBusyId(c.id);
    setActionError('');
    setNotice('');
    try {
      const res = await api.unassignConversation(c.id);
      if (isRequest(res)) putRow(res);
      setNotice(`Request #${c.id} is back in the queue.`);
    } catch (err) {
      setActionError(err.message);
    } finally {
      setBusyId(0);
      refresh();
    }
  }

  function reassigned(conv) {
    if (isRequest(conv)) putRow(conv);
    const to = conv && conv.assignee_id ? agentName(agentList, conv.assignee_id) : '';
    setNotice(to ? `Request #${reassigning.id} reassigned to ${to}.` : `Request #${reassigning.id} reassigned.`);
    setReassigning(null);
    refresh();
  }

  const departmentName = (id) => (departments.find((d) => d.id === id) || {}).name || `Department #${id}`;

  const tools = html`<div class="filters" id="active-chats-filters">
    <label class="filter"><span>Department</span>
      <select id="active-chats-department" value=${filter.department_id} onChange=${changeFilter('department_id')}>
        <option value="">All departments</option>
        ${departments.map((d) => html`<option key=${d.id} value=${String(d.id)}>${d.name}</option>`)}
      </select>
    </label>
    <label class="filter"><span>Channel</span>
      <select id="active-chats-channel" value=${filter.channel} onChange=${changeFilter('channel')}>
        <option value="">All channels</option>
        ${Object.entries(KIND_LABELS).map(([k, label]) => html`<option key=${k} value=${k}>${label}</option>`)}
      </select>
    </label>
    <label class="filter"><span>Sort</span>
      <select id="active-chats-sort" value=${filter.sort} onChange=${changeFilter('sort')}>
        ${SORTS.map((s) => html`<option key=${s.value} value=${s.value}>${s.label}</option>`)}
      </select>
    </label>
  </div>`;

  const { chats, error } = state;
  let body;
  if (!chats) {
    body = error
      ? html`<div class="card"><p class="status status-error" role="alert">${error.message}</p>
          <button type="button" class="btn btn-small" onClick=${refresh}>Try again</button></div>`
      : html`<p class="muted" role="status">Loading active chats…</p>`;
  } else if (!chats.length) {
    body = html`<${EmptyState} id="active-chats-empty">${filter.department_id || filter.channel
      ? 'No open chats match these filters.' : 'No open chats right now. New requests show up here at once.'}<//>`;
  } else {
    body = html`<div class="table-wrap"><table class="table table-compact" id="active-chats">
      <thead><tr>
        <th>Request</th><th>Client</th><th>Agent</th><th>Channel</th><th>Department</th><th>Duration</th>
        <th>SLA</th><th>Last message</th><th><span class="visually-hidden">Actions</span></th>
      </tr></thead>
      <tbody>
        ${chats.map((c) => html`<${ChatRow} key=${c.id} c=${c} now=${now} agentList=${agentList} departmentName=${departmentName}
          busy=${busyId === c.id} onReassign=${(x) => { setActionError(''); setNotice(''); setReassigning(x); }} onUnassign=${unassign} />`)}
      </tbody>
    </table></div>`;
  }

  return html`<div class="admin-page" id="management-chats">
    ${tools}
    ${chats && error ? html`<p class="status status-error" id="active-chats-error" role="alert">Could not refresh the list: ${error.message}</p>` : null}
    ${actionError ? html`<p class="status status-error banner" id="active-chats-action-error" role="alert">${actionError}</p>` : null}
    ${notice ? html`<p class="status status-ok" id="active-chats-notice" role="status">${notice}</p>` : null}
    ${chats && chats.length ? html`<p class="muted" id="active-chats-count">${chats.length}${state.next ? '+' : ''} open ${chats.length === 1 ? 'chat' : 'chats'}</p>` : null}
    ${body}
    ${state.next ? html`<div class="list-foot">
      <button type="button" class="btn btn-small" id="load-more" disabled=${state.loadingMore} onClick=${loadMore}>
        ${state.loadingMore ? 'Loading…' : 'Load more'}</button>
    </div>` : null}
    ${reassigning ? html`<${TransferDialog} conv=${reassigning} title=${`Reassign request #${reassigning.id}`} submitLabel="Reassign"
      onClose=${() => setReassigning(null)} onDone=${reassigned} />` : null}
  </div>`;
}
