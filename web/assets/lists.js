// Request lists: the Unassigned queue, All chats, the channel tabs and the
// classic requests. Each page fetches its first page on navigation; from
// then on rows change in place from real-time events (live.js).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import * as api from './api.js';
import { agents, agentName, statuses, statusOf, useResource } from './directory.js';
import { ago, since, useNow } from './format.js';
import { fetchTick, listRows, mergeRows, putRow, refreshRow, sortKey, useStore } from './live.js';
import { CHANNELS, kindLabel } from './nav.js';
import { SlaClock } from './sla.js';
import { EmptyState } from './ui.js';

const PAGE = 50;

export function ChannelBadge({ kind }) {
  return html`<span class="chan chan-${kind}" data-channel-kind=${kind}>${kindLabel(kind)}</span>`;
}

export function UnreadBadge({ count }) {
  if (!count) return null;
  return html`<span class="unread" data-unread=${count} title="${count} unread">${count}</span>`;
}

// useListPage loads the first page of a list on navigation and further pages
// on demand; the rows themselves come from the live store.
function useListPage(view, filter) {
  const [page, setPage] = useState({ loading: true, error: null, next: '', end: null, more: false });
  const seq = useRef(0);
  useStore();

  async function load(after) {
    const mine = ++seq.current;
    setPage((p) => ({ ...p, loading: true, error: null }));
    const t = fetchTick();
    try {
      const res = await api.listConversations({
        view, channel: filter.kind, status: filter.status || '', after, limit: PAGE,
      });
      if (mine !== seq.current) return;
      const list = res.conversations || [];
      mergeRows(list, t);
      setPage((p) => ({
        loading: false, error: null, next: res.next || '',
        end: list.length ? sortKey(list[list.length - 1], view) : after ? p.end : null,
        more: !!res.next,
      }));
    } catch (err) {
      if (mine === seq.current) setPage((p) => ({ ...p, loading: false, error: err }));
    }
  }

  useEffect(() => {
    setPage({ loading: true, error: null, next: '', end: null, more: false });
    load('');
  }, [view, filter.kind, filter.status]);

  const rows = listRows(view, filter, page.more ? page.end : null);
  return { ...page, rows, loadMore: () => load(page.next), retry: () => load('') };
}

function ListFooter({ page, label }) {
  if (page.error) {
    return html`<div class="list-foot">
      <p class="status status-error" role="alert">${page.error.message}</p>
      <button type="button" class="btn btn-small" onClick=${page.retry}>Try again</button>
    </div>`;
  }
  if (page.more) {
    return html`<div class="list-foot">
      <button type="button" class="btn btn-small" id="load-more" disabled=${page.loading} onClick=${page.loadMore}>
        ${page.loading ? 'Loading…' : `Load more ${label}`}
      </button>
    </div>`;
  }
  return null;
}

function Page({ id, title, count, children, tools }) {
  return html`<section class="page page-wide" id=${id}>
    <div class="page-head">
      <h1>${title}${count ? html` <span class="page-count">${count}</span>` : null}</h1>
      ${tools}
    </div>
    ${children}
  </section>`;
}

function QueueRow({ c, now, onTake, busy }) {
  return html`<li class="conv-row" data-conversation-id=${c.id}>
    <${ChannelBadge} kind=${c.channel_kind} />
    <a class="conv-main" href="#/c/${c.id}" title="Request #${c.id}">
      <span class="conv-name">${c.client_name || 'Client'}</span>
      <span class="conv-text">${c.subject || c.last_message_preview}</span>
    </a>
    <span class="conv-meta conv-wait" title="Waiting since ${new Date(c.created_at).toLocaleString()}">${since(c.created_at, now)}</span>
    <${SlaClock} c=${c} />
    <span class="conv-unread"><${UnreadBadge} count=${c.unread} /></span>
    <button type="button" class="btn btn-primary btn-small" data-action="take" disabled=${busy} onClick=${() => onTake(c)}>
      ${busy ? 'Taking…' : 'Take the chat'}
    </button>
  </li>`;
}

export function UnassignedList() {
  const page = useListPage('unassigned', {});
  const now = useNow(15000);
  const [taking, setTaking] = useState(0);
  const [error, setError] = useState('');

  async function take(c) {
    setTaking(c.id);
    setError('');
    try {
      const taken = await api.takeConversation(c.id);
      putRow(taken);
      location.hash = `#/c/${c.id}`;
    } catch (err) {
      setError(err.message);
      // A request someone else took leaves the queue with their event; do
      // not wait for it if it is still on its way.
      if (err.status === 409 || err.status === 404) refreshRow(c.id);
    } finally {
      setTaking(0);
    }
  }

  let body;
  if (page.loading && !page.rows.length && !page.error) body = html`<p class="muted" role="status">Loading the queue…</p>`;
  else if (!page.rows.length && !page.error) body = html`<${EmptyState} id="queue-empty">No unassigned requests. New requests from connected channels appear here at once.<//>`;
  else {
    body = html`<ul class="conv-list" id="queue-list">
      ${page.rows.map((c) => html`<${QueueRow} key=${c.id} c=${c} now=${now} busy=${taking === c.id} onTake=${take} />`)}
    </ul>`;
  }
  return html`<${Page} id="section-unassigned" title="Unassigned" count=${page.rows.length ? `${page.rows.length}${page.more ? '+' : ''}` : ''}>
    ${error ? html`<p class="status status-error banner" id="take-error" role="alert">${error}</p>` : null}
    ${body}
    <${ListFooter} page=${page} label="requests" />
  <//>`;
}

function ChatRow({ c, now, agentList, statusList, href, subject }) {
  const status = statusOf(statusList, c.status_id);
  return html`<li class="conv-row ${c.unread ? 'conv-row-unread' : ''}" data-conversation-id=${c.id}>
    <${ChannelBadge} kind=${c.channel_kind} />
    <a class="conv-main" href=${href} title="Request #${c.id}">
      <span class="conv-name">${c.client_name || 'Client'}</span>
      <span class="conv-text">${subject || c.last_message_kind === 'event' ? c.subject || c.last_message_preview
        : [c.last_message_kind === 'note' ? 'Note: ' : '', c.last_message_preview || c.subject]}</span>
    </a>
    <span class="conv-meta conv-assignee">${c.assignee_id
      ? html`<span class="assignee">${agentName(agentList, c.assignee_id)}</span>`
      : html`<span class="tag tag-unassigned">Unassigned</span>`}</span>
    ${status ? html`<span class="conv-meta conv-status"><span class="status-pill status-${status.class}">${status.name}</span></span>` : html`<span class="conv-meta"></span>`}
    <${SlaClock} c=${c} />
    <span class="conv-meta conv-time" title=${new Date(c.last_message_at).toLocaleString()}>${ago(c.last_message_at, now)}</span>
    <span class="conv-unread"><${UnreadBadge} count=${c.unread} /></span>
  </li>`;
}

// ChatsList is All chats (kind '') or one channel tab.
export function ChatsList({ section }) {
  const channel = CHANNELS.find((c) => c.key === section);
  const kind = channel ? channel.kind : '';
  const page = useListPage('chats', { kind });
  const now = useNow(30000);
  const agentList = useResource(agents);
  const statusList = useResource(statuses);
  const title = channel ? channel.label : 'All chats';

  let body;
  if (page.loading && !page.rows.length && !page.error) body = html`<p class="muted" role="status">Loading chats…</p>`;
  else if (!page.rows.length && !page.error) {
    body = html`<${EmptyState} id="chats-empty">${channel
      ? `No open requests from ${channel.label}.`
      : 'No open chats. Requests you take, and new requests you can see, appear here at once.'}<//>`;
  } else {
    body = html`<ul class="conv-list" id="chats-list">
      ${page.rows.map((c) => html`<${ChatRow} key=${c.id} c=${c} now=${now} agentList=${agentList}
        statusList=${statusList} href="#/c/${c.id}" />`)}
    </ul>`;
  }
  return html`<${Page} id="section-${section}" title=${title}>
    ${body}
    <${ListFooter} page=${page} label="chats" />
  <//>`;
}

export function ClassicList() {
  const statusList = useResource(statuses);
  const agentList = useResource(agents);
  const [status, setStatus] = useState(0);
  const page = useListPage('classic', { status });
  const now = useNow(30000);

  const tools = html`<label class="filter">
    <span>Status</span>
    <select id="classic-status" value=${String(status)} onChange=${(e) => setStatus(Number(e.currentTarget.value))}>
      <option value="0">All statuses</option>
      ${(statusList || []).map((s) => html`<option key=${s.id} value=${String(s.id)}>${s.name}</option>`)}
    </select>
  </label>`;

  let body;
  if (page.loading && !page.rows.length && !page.error) body = html`<p class="muted" role="status">Loading requests…</p>`;
  else if (!page.rows.length && !page.error) {
    body = html`<${EmptyState} id="classic-empty">${status
      ? 'No classic requests with this status.'
      : 'No classic requests. “Close and open the request” in a chat moves it here.'}<//>`;
  } else {
    body = html`<ul class="conv-list" id="classic-list">
      ${page.rows.map((c) => html`<${ChatRow} key=${c.id} c=${c} now=${now} agentList=${agentList}
        statusList=${statusList} href="#/classic/${c.id}" subject=${true} />`)}
    </ul>`;
  }
  return html`<${Page} id="section-classic" title="Classic requests" tools=${tools}>
    ${body}
    <${ListFooter} page=${page} label="requests" />
  <//>`;
}
