// Management › Agents: who is at work, their status, load and today's reply
// times. Kept current by live events and a 10 s tick.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { ago, seconds, since, useNow } from '../format.js';
import { Avatar, EmptyState, PRESENCE_LABELS, reasonOf } from '../ui.js';
import { isConversationEvent, useLiveRefresh } from './refresh.js';

// statusOf gives the label and dot of an agent's status: an Online agent
// whose tabs are all disconnected is "Online (disconnected)".
export function statusOf(a) {
  const p = PRESENCE_LABELS[a.presence] ? a.presence : 'offline';
  if (p === 'online' && a.connected === false) return { label: 'Online (disconnected)', dot: 'online dot-disconnected', key: 'disconnected' };
  if (p === 'away') {
    const { name } = reasonOf(a);
    return { label: name ? `Away – ${name}` : 'Away', dot: 'away', key: 'away' };
  }
  return { label: PRESENCE_LABELS[p], dot: p, key: p };
}

const none = () => html`<span class="muted">—</span>`;

// average shows a mean time in seconds, or "—" when there is none yet.
function average(value, count) {
  if (value === null || value === undefined || value === '' || (!value && !count)) return none();
  return seconds(value);
}

function AgentRow({ a, now }) {
  const st = statusOf(a);
  const today = a.today || {};
  const cap = Number(a.capacity) || 0;
  const active = Number(a.active_chats) || 0;
  return html`<tr data-agent-id=${a.id} data-presence=${st.key} class=${st.key === 'offline' ? 'row-inactive' : ''}>
    <td class="cell-avatar"><${Avatar} url=${a.avatar_url} name=${a.name} size="sm" /></td>
    <td class="cell-name agent-name">${a.name}</td>
    <td class="agent-status">
      <span class="presence"><span class=${`dot dot-${st.dot}`} aria-hidden="true"></span>
        <span class="agent-status-label">${st.label}</span></span>
      ${a.since ? html`<span class="cell-sub agent-since" title=${`Since ${new Date(a.since).toLocaleString()}`}>for ${since(a.since, now)}</span>` : null}
    </td>
    <td class="cell-count agent-chats" title=${cap ? `${active} open chats of at most ${cap}` : `${active} open chats`}>
      ${cap ? `${active} / ${cap}` : String(active)}</td>
    <td class="agent-last-reply" title=${a.last_reply_at ? new Date(a.last_reply_at).toLocaleString() : undefined}>
      ${a.last_reply_at ? ago(a.last_reply_at, now) : none()}</td>
    <td class="cell-count agent-first-reply">${average(today.first_reply_seconds, today.replies)}</td>
    <td class="cell-count agent-reply-time">${average(today.reply_seconds, today.replies)}</td>
    <td class="cell-count agent-replies">${Number(today.replies) || 0}</td>
  </tr>`;
}

const isAgentEvent = (ev) => ev.kind === 'agent.presence' || isConversationEvent(ev);

export function AgentsAtWorkPage() {
  const [state, setState] = useState({ agents: null, error: null });
  const now = useNow(15000);

  async function refresh() {
    try {
      const list = await api.listAgentsAtWork();
      setState({ agents: list, error: null });
    } catch (error) {
      setState((s) => ({ ...s, error }));
    }
  }
  useLiveRefresh(refresh, { match: isAgentEvent });

  const { agents, error } = state;
  let body;
  if (!agents) {
    body = error
      ? html`<div class="card"><p class="status status-error" role="alert">${error.message}</p>
          <button type="button" class="btn btn-small" onClick=${refresh}>Try again</button></div>`
      : html`<p class="muted" role="status">Loading agents…</p>`;
  } else if (!agents.length) {
    body = html`<${EmptyState} id="agents-at-work-empty">No agents with access to Omnichannel yet.<//>`;
  } else {
    const online = agents.filter((a) => a.presence === 'online' && a.connected !== false).length;
    body = html`
      <p class="muted" id="agents-at-work-count">${online} of ${agents.length} online · today is the calendar day in the team's time zone (Settings › Omnichannel)</p>
      <div class="table-wrap"><table class="table table-compact" id="agents-at-work">
        <thead><tr>
          <th><span class="visually-hidden">Avatar</span></th><th>Agent</th><th>Status</th><th>Active chats</th><th>Last reply</th>
          <th title="Today's average time from assignment to the agent's first reply">First reply, avg</th>
          <th title="Today's average time from a client's message to the agent's reply">Reply time, avg</th>
          <th>Replies today</th>
        </tr></thead>
        <tbody>${agents.map((a) => html`<${AgentRow} key=${a.id} a=${a} now=${now} />`)}</tbody>
      </table></div>`;
  }

  return html`<div class="admin-page" id="management-agents">
    ${agents && error ? html`<p class="status status-error" id="agents-at-work-error" role="alert">Could not refresh the list: ${error.message}</p>` : null}
    ${body}
  </div>`;
}
