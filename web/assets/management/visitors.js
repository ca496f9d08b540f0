// Management › Visitors: who is on the widget sites right now, refreshed
// every few seconds while the page is open.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { safeURL, since } from '../format.js';
import { EmptyState } from '../ui.js';

const REFRESH_MS = 3000;

// usePolled calls load now and REFRESH_MS after each answer while mounted;
// a hidden tab skips its turns and catches up when shown again.
function usePolled(load) {
  const [state, setState] = useState({ items: null, error: null, at: Date.now() });
  useEffect(() => {
    let alive = true;
    let timer = 0;
    let stopped = false;
    const schedule = () => { if (alive && !stopped) timer = setTimeout(tick, REFRESH_MS); };
    async function tick() {
      timer = 0;
      if (document.hidden) return schedule();
      try {
        const items = await load();
        if (alive) setState({ items, error: null, at: Date.now() });
      } catch (error) {
        if (!alive) return;
        setState((s) => ({ ...s, error, at: Date.now() }));
        if (error.status === 401 || error.status === 403) stopped = true;
      }
      schedule();
    }
    function onVisible() {
      if (!document.hidden && timer) {
        clearTimeout(timer);
        tick();
      }
    }
    tick();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      alive = false;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);
  return state;
}

// Link is an outside link for http(s) addresses, plain text otherwise.
function Link({ url, className, children }) {
  const href = safeURL(url);
  if (!href) return html`<span class=${className}>${children}</span>`;
  return html`<a class=${className} href=${href} target="_blank" rel="noopener noreferrer" title=${url}>${children}</a>`;
}

const none = () => html`<span class="muted">—</span>`;

function VisitorRow({ v, channelName, now, withCountry }) {
  return html`<tr data-visitor-id=${v.id} class=${v.conversation_id ? 'row-chatting' : ''}>
    <td class="cell-name visitor-name">${v.name || `Visitor #${v.id}`}</td>
    <td class="cell-email visitor-email">${v.email
      ? html`<span>${v.email}</span>${v.verified
        ? html` <span class="badge badge-ok visitor-verified" title="Confirmed by the site with data-user-hash">verified</span>` : null}`
      : none()}</td>
    <td class="visitor-channel">${channelName}</td>
    <td class="cell-page">
      ${v.page_url || v.page_title
        ? html`<${Link} url=${v.page_url} className="visitor-page">${v.page_title || v.page_url}<//>
          ${v.page_title && v.page_url ? html`<span class="cell-sub visitor-page-url" title=${v.page_url}>${v.page_url}</span>` : null}`
        : none()}
    </td>
    <td class="cell-count visitor-pages">${v.pages_viewed || 0}</td>
    <td class="visitor-time" title=${v.visit_started_at ? `On the site since ${new Date(v.visit_started_at).toLocaleString()}` : undefined}>
      ${v.visit_started_at ? since(v.visit_started_at, now) : none()}</td>
    <td class="cell-url">${v.referrer ? html`<${Link} url=${v.referrer} className="visitor-referrer">${v.referrer}<//>` : none()}</td>
    <td class="visitor-ip">${v.ip || none()}</td>
    ${withCountry ? html`<td class="visitor-country">${v.country || none()}</td>` : null}
    <td class="visitor-chat">${v.conversation_id
      ? html`<a href=${`#/c/${v.conversation_id}`} class="visitor-chat-link" title="Open the chat">Request #${v.conversation_id}</a>`
      : none()}</td>
  </tr>`;
}

export function VisitorsPage() {
  const [channels, setChannels] = useState([]);
  useEffect(() => {
    let alive = true;
    api.listChannels().then((list) => alive && setChannels(list), () => {});
    return () => { alive = false; };
  }, []);
  const { items, error, at } = usePolled(api.listVisitors);

  const channelName = (id) => (channels.find((c) => c.id === id) || {}).name || `Channel #${id}`;

  let body;
  if (!items) {
    body = error
      ? html`<p class="status status-error" role="alert">${error.message}</p>`
      : html`<p class="muted" role="status">Loading visitors…</p>`;
  } else if (!items.length) {
    body = html`<${EmptyState} id="visitors-empty">Nobody is on your sites right now.<//>`;
  } else {
    const withCountry = items.some((v) => v.country);
    const chatting = items.filter((v) => v.conversation_id).length;
    body = html`
      <p class="muted" id="visitors-count">${items.length === 1 ? '1 visitor' : `${items.length} visitors`} on your sites${chatting ? ` · ${chatting} chatting` : ''}</p>
      <div class="table-wrap"><table class="table table-compact" id="visitors-list">
        <thead><tr>
          <th>Visitor</th><th>Email</th><th>Channel</th><th>Current page</th><th>Pages</th><th>On the site</th>
          <th>Referrer</th><th>IP</th>${withCountry ? html`<th>Country</th>` : null}<th>Chatting</th>
        </tr></thead>
        <tbody>
          ${items.map((v) => html`<${VisitorRow} key=${v.id} v=${v} channelName=${channelName(v.channel_id)} now=${at} withCountry=${withCountry} />`)}
        </tbody>
      </table></div>`;
  }

  return html`<div class="admin-page" id="management-visitors">
    ${items && error ? html`<p class="status status-error" id="visitors-error" role="alert">Could not refresh the list: ${error.message}</p>` : null}
    ${body}
  </div>`;
}
