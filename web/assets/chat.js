// The chat view (#/c/ID, and #/classic/ID for classic requests): header with
// status and actions, the correspondence, the composer and the client panel.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import * as api from './api.js';
import { agentName, agents, statuses, useResource } from './directory.js';
import { clock, dateTime, day, fileSize } from './format.js';
import { fetchTick, getRow, isTyping, mergeRows, onLiveEvent, putRow, typingAgents, useStore } from './live.js';
import { ChannelBadge } from './lists.js';
import { hasRight } from './nav.js';
import { Composer } from './composer.js';
import { ClientPanel } from './clientpanel.js';
import { SlaTargets } from './sla.js';
import { Modal, PresenceDot, useAction } from './ui.js';

const PAGE = 100;

// mergeMessages adds messages to a list once each, in id order (a message
// already there is replaced).
function mergeMessages(list, more) {
  const byId = new Map((list || []).map((m) => [m.id, m]));
  for (const m of more) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

// A reply's delivery only moves forward (failed ends it until a retry).
const DELIVERY_RANK = { queued: 1, sent: 2, delivered: 3, read: 4, failed: 5 };

// mergeAnswer adds a message an API call answered (or one heard while the
// first page loaded) unless the list holds a later state of it: the live
// stream may have reported "sent" before the answer saying "queued" arrived.
function mergeAnswer(list, m) {
  const old = (list || []).find((x) => x.id === m.id);
  if (old && (DELIVERY_RANK[old.delivery] || 0) > (DELIVERY_RANK[m.delivery] || 0)) return list;
  return mergeMessages(list, [m]);
}

export function usePageVisible() {
  const [visible, setVisible] = useState(!document.hidden);
  useEffect(() => {
    const fn = () => setVisible(!document.hidden);
    document.addEventListener('visibilitychange', fn);
    return () => document.removeEventListener('visibilitychange', fn);
  }, []);
  return visible;
}

// useMessages loads a request's correspondence and keeps it current.
function useMessages(cid) {
  const [state, setState] = useState({ messages: null, older: false, error: null, loadingOlder: false });
  const early = useRef([]);

  useEffect(() => {
    let alive = true;
    early.current = [];
    setState({ messages: null, older: false, error: null, loadingOlder: false });
    if (!(cid > 0)) return undefined;
    // message.created adds a message; message.updated (a reply's delivery
    // state, a client's edit) replaces it by id. The stream is in order, so
    // its version is the latest.
    const off = onLiveEvent((ev) => {
      const m = ev.data && ev.data.message;
      if (!m || m.conversation_id !== cid) return;
      const update = ev.kind === 'message.updated';
      setState((s) => {
        if (!s.messages) {
          early.current.push({ m, update }); // arrived while the first page loads
          return s;
        }
        // An update of a message outside the loaded pages waits for "Load earlier".
        if (update && !s.messages.some((x) => x.id === m.id) && s.older && s.messages.length && m.id < s.messages[0].id) return s;
        return { ...s, messages: mergeMessages(s.messages, [m]) };
      });
    });
    api.listMessages(cid).then((list) => {
      if (!alive) return;
      const older = list.length >= PAGE;
      const first = list.length ? list[0].id : 0;
      let messages = mergeMessages(list, []);
      for (const { m, update } of early.current) {
        if (update && older && m.id < first) continue;
        messages = mergeAnswer(messages, m);
      }
      setState({ messages, older, error: null, loadingOlder: false });
    }, (err) => alive && setState((s) => ({ ...s, error: err })));
    return () => { alive = false; off(); };
  }, [cid]);

  async function loadOlder() {
    const first = state.messages && state.messages[0];
    if (!first || state.loadingOlder) return;
    setState((s) => ({ ...s, loadingOlder: true }));
    try {
      const list = await api.listMessages(cid, first.id);
      setState((s) => ({ ...s, messages: mergeMessages(s.messages, list), older: list.length >= PAGE, loadingOlder: false }));
    } catch (err) {
      setState((s) => ({ ...s, loadingOlder: false, error: err }));
    }
  }

  const add = (m) => setState((s) => ({ ...s, messages: mergeAnswer(s.messages, m) }));
  // retried takes the answer of a retry unless the stream already moved the
  // reply on from "failed".
  const retried = (m) => setState((s) => {
    const old = (s.messages || []).find((x) => x.id === m.id);
    return old && old.delivery !== 'failed' ? s : { ...s, messages: mergeMessages(s.messages, [m]) };
  });
  return { ...state, loadOlder, add, retried };
}

// Linkify shows http(s) links in client text as links; everything stays text.
const URL_RE = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'"]/g;
function Linkified({ text }) {
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push(html`<a href=${m[0]} target="_blank" rel="noopener noreferrer nofollow">${m[0]}</a>`);
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

const DELIVERY = { queued: 'Sending…', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Not delivered' };

// Delivery is the state of a reply to a messenger, under its bubble; a failed
// one says why and offers "Retry" where the agent may write (onRetry set).
function Delivery({ m, onRetry }) {
  const action = useAction();
  const failed = m.delivery === 'failed';
  const { reset } = action;
  useEffect(() => { reset(); }, [m.delivery, reset]);
  async function retry() {
    const res = await action.run(() => api.retryMessage(m.id), { pending: '', done: '' });
    if (res.ok && res.value && res.value.id) onRetry(res.value);
  }
  const text = failed ? `${DELIVERY.failed}${m.delivery_error ? `: ${m.delivery_error}` : ''}` : DELIVERY[m.delivery] || m.delivery;
  return html`<div class="msg-delivery message-delivery delivery-${m.delivery}" data-delivery=${m.delivery}>
    <span class="message-delivery-text">${text}</span>
    ${failed && onRetry ? html`<button type="button" class="btn btn-small message-retry" data-action="retry"
      disabled=${action.busy} onClick=${retry}>${action.busy ? 'Retrying…' : 'Retry'}</button>` : null}
    ${action.error ? html`<span class="message-retry-error" role="alert">${action.error.message}</span>` : null}
  </div>`;
}

function Attachments({ m }) {
  if (!m.attachments || !m.attachments.length) return null;
  return html`<div class="msg-files">
    ${m.attachments.map((a, i) => {
      const url = api.attachmentURL(m.id, i);
      if (a.content_type && a.content_type.startsWith('image/') && a.content_type !== 'image/svg+xml') {
        return html`<a class="msg-image" href=${url} target="_blank" rel="noopener" key=${i}>
          <img src=${url} alt=${a.filename} loading="lazy" />
        </a>`;
      }
      return html`<a class="msg-file" href=${url} download=${a.filename} key=${i}>
        <span class="msg-file-name">${a.filename}</span> <span class="muted">${fileSize(a.size)}</span>
      </a>`;
    })}
  </div>`;
}

function Message({ m, conv, agentList, onRetry }) {
  if (m.kind === 'event') {
    return html`<li class="msg msg-event" data-message-id=${m.id} data-kind="event">
      <span>${m.body}</span> <time datetime=${m.created_at}>${clock(m.created_at)}</time>
    </li>`;
  }
  const fromClient = m.kind === 'client';
  const author = fromClient ? conv.client_name || 'Client' : m.author_id ? agentName(agentList, m.author_id) : 'Switchboard';
  return html`<li class="msg msg-${m.kind}" data-message-id=${m.id} data-kind=${m.kind}>
    <div class="msg-meta">
      ${m.kind === 'note' ? html`<span class="msg-label">Internal note</span>` : null}
      <span class="msg-author">${author}</span>
      <time datetime=${m.created_at} title=${new Date(m.created_at).toLocaleString()}>${clock(m.created_at)}</time>
      ${fromClient && m.edited_at ? html`<span class="message-edited" title=${`Edited ${dateTime(m.edited_at)}`}>edited</span>` : null}
    </div>
    ${m.body ? html`<div class="msg-body">${fromClient ? html`<${Linkified} text=${m.body} />` : m.body}</div>` : null}
    <${Attachments} m=${m} />
    ${m.kind === 'reply' && m.delivery ? html`<${Delivery} m=${m} onRetry=${onRetry} />` : null}
  </li>`;
}

// MessageList renders the correspondence with day separators and keeps the
// view at the bottom while the agent is there.
// onRetry (set where the agent may write) takes a reply queued again.
export function MessageList({ conv, msgs, id = 'messages', footer, onRetry }) {
  const agentList = useResource(agents);
  const box = useRef(null);
  const atBottom = useRef(true);
  const olderAnchor = useRef(null);
  const list = msgs.messages || [];
  const last = list.length ? list[list.length - 1] : null;
  // The last message growing (a delivery state, "Retry") keeps the view at the bottom too.
  const lastKey = last ? `${last.id}:${last.delivery || ''}:${last.edited_at || ''}` : '';

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    if (olderAnchor.current !== null) {
      el.scrollTop = el.scrollHeight - olderAnchor.current;
      olderAnchor.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [lastKey, list.length, footer]);

  function onScroll() {
    const el = box.current;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
  }
  function onImageLoad() {
    const el = box.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }
  function loadOlder() {
    olderAnchor.current = box.current ? box.current.scrollHeight - box.current.scrollTop : null;
    msgs.loadOlder();
  }

  let lastDay = '';
  const items = [];
  for (const m of list) {
    const d = day(m.created_at);
    if (d !== lastDay) {
      items.push(html`<li class="msg-day" key=${`d-${m.id}`}><span>${d}</span></li>`);
      lastDay = d;
    }
    items.push(html`<${Message} key=${m.id} m=${m} conv=${conv} agentList=${agentList} onRetry=${onRetry} />`);
  }

  return html`<div class="messages" id=${id} ref=${box} onScroll=${onScroll} onLoadCapture=${onImageLoad}>
    ${msgs.older ? html`<div class="messages-older">
      <button type="button" class="btn btn-small" data-action="load-older" disabled=${msgs.loadingOlder} onClick=${loadOlder}>
        ${msgs.loadingOlder ? 'Loading…' : 'Load earlier messages'}</button>
    </div>` : null}
    ${msgs.error ? html`<p class="status status-error" role="alert">${msgs.error.message}</p>` : null}
    ${msgs.messages === null && !msgs.error ? html`<p class="muted messages-loading" role="status">Loading messages…</p>` : null}
    <ul class="msg-list">${items}</ul>
    ${footer}
  </div>`;
}

// TransferDialog reassigns a request to another agent, with an optional
// internal note (also Management › Active chats' "Reassign").
export function TransferDialog({ conv, onClose, onDone, title = 'Transfer the request', submitLabel = 'Transfer' }) {
  const agentList = useResource(agents);
  const [agentId, setAgentId] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const choices = (agentList || []).filter((a) => a.active && a.id !== conv.assignee_id);

  useEffect(() => { agents.reload(); }, []); // fresh presence

  async function submit(e) {
    e.preventDefault();
    if (busy) return;
    if (!agentId) {
      setError('Choose an agent.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      onDone(await api.transferConversation(conv.id, Number(agentId), note.trim()));
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  }

  return html`<${Modal} id="transfer-dialog" title=${title} onClose=${onClose}>
    <form class="stack" onSubmit=${submit} noValidate>
      <label class="field">
        <span>Agent</span>
        <select id="transfer-agent" value=${agentId} onChange=${(e) => setAgentId(e.currentTarget.value)}>
          <option value="">Choose an agent…</option>
          ${choices.map((a) => html`<option key=${a.id} value=${String(a.id)}>${a.name} (${a.presence || 'offline'})</option>`)}
        </select>
      </label>
      ${agentId ? html`<p class="hint">${(() => {
        const a = choices.find((x) => String(x.id) === agentId);
        return a ? html`<${PresenceDot} presence=${a.presence} withLabel=${true} />` : null;
      })()}</p>` : null}
      <label class="field">
        <span>Note for the agent <span class="muted">(optional, internal)</span></span>
        <textarea id="transfer-note" rows="3" value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea>
      </label>
      ${error ? html`<p class="status status-error" id="transfer-status" role="alert">${error}</p>` : null}
      <div class="form-actions">
        <button type="submit" id="transfer-submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Transferring…' : submitLabel}</button>
        <button type="button" class="btn btn-ghost" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

// PreviousDialog shows an earlier request of the client, read-only.
function PreviousDialog({ id, onClose }) {
  const [conv, setConv] = useState(null);
  const [error, setError] = useState('');
  const msgs = useMessages(id);
  const statusList = useResource(statuses);
  useEffect(() => {
    api.getConversation(id).then(setConv, (err) => setError(err.message));
  }, [id]);
  const st = conv && (statusList || []).find((s) => s.id === conv.status_id);
  return html`<${Modal} id="previous-dialog" title=${`Request #${id}`} onClose=${onClose}>
    <div class="previous-view">
      ${error ? html`<p class="status status-error" role="alert">${error}</p>` : null}
      ${conv ? html`<p class="previous-head">
        <${ChannelBadge} kind=${conv.channel_kind} />
        <span class="previous-subject">${conv.subject}</span>
        ${st ? html`<span class="status-pill status-${st.class}">${st.name}</span>` : null}
      </p>` : null}
      ${conv ? html`<${MessageList} conv=${conv} msgs=${msgs} id="previous-messages" />` : null}
      <p class="hint">Read-only: an earlier request of this client.</p>
    </div>
  <//>`;
}

function ChatHeader({ conv, me, canWrite, canTake, statusList, agentList, onAction, busy, onTransfer, onToggleClient }) {
  const status = (statusList || []).find((s) => s.id === conv.status_id);
  const open = !conv.closed_at;
  return html`<header class="chat-head">
    <div class="chat-title">
      <div class="chat-title-line">
        <h1 id="chat-client-name">${conv.client_name || 'Client'}</h1>
        <${ChannelBadge} kind=${conv.channel_kind} />
        ${conv.mode === 'classic' ? html`<span class="tag tag-classic">Classic</span>` : null}
        ${!open ? html`<span class="tag tag-closed" id="chat-closed-tag">Closed</span>` : null}
      </div>
      <div class="chat-subject" id="chat-subject" title="Request #${conv.id}">${conv.subject || `Request #${conv.id}`}</div>
      ${open ? html`<${SlaTargets} c=${conv} />` : null}
    </div>
    <div class="chat-tools">
      <span class="chat-assignee" id="chat-assignee">${conv.assignee_id
        ? (conv.assignee_id === me.agent.id ? 'You' : agentName(agentList, conv.assignee_id))
        : html`<span class="tag tag-unassigned">Unassigned</span>`}</span>
      <label class="visually-hidden" for="chat-status">Status</label>
      <select id="chat-status" value=${String(conv.status_id)} disabled=${!canWrite || busy}
        onChange=${(e) => onAction('status', Number(e.currentTarget.value))}>
        ${(statusList || []).map((s) => html`<option key=${s.id} value=${String(s.id)}>${s.name}</option>`)}
        ${!status ? html`<option value=${String(conv.status_id)}>…</option>` : null}
      </select>
      ${canWrite && canTake ? html`<button type="button" class="btn btn-small btn-primary" data-action="take" id="chat-take"
        disabled=${busy} onClick=${() => onAction('take')}>Take the chat</button>` : null}
      ${canWrite ? html`
        <button type="button" class="btn btn-small" data-action="transfer" disabled=${busy} onClick=${onTransfer}>Transfer</button>
        ${conv.mode === 'live' ? html`<button type="button" class="btn btn-small" data-action="classic" disabled=${busy}
          onClick=${() => onAction('classic')}>Close and open the request</button>` : null}
        <button type="button" class="btn btn-small btn-danger-outline" data-action="close" disabled=${busy}
          onClick=${() => onAction('close')}>Close</button>` : null}
      <button type="button" class="btn btn-small btn-ghost client-toggle" id="toggle-client-panel" onClick=${onToggleClient}>Client</button>
    </div>
  </header>`;
}

export function ChatView({ me, id }) {
  const cid = Number(id);
  useStore();
  const conv = getRow(cid);
  const [loadError, setLoadError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState('');
  const [transferring, setTransferring] = useState(false);
  const [previous, setPrevious] = useState(0);
  const [showClient, setShowClient] = useState(false);
  const statusList = useResource(statuses);
  const agentList = useResource(agents);
  const msgs = useMessages(cid);
  const visible = usePageVisible();
  const reading = useRef(false);

  useEffect(() => {
    let alive = true;
    setLoadError(null);
    setActionError('');
    setTransferring(false);
    setPrevious(0);
    if (!(cid > 0)) return undefined;
    const t = fetchTick();
    api.getConversation(cid).then((c) => alive && mergeRows([c], t), (err) => alive && setLoadError(err));
    return () => { alive = false; };
  }, [cid]);

  const mine = conv && conv.assignee_id === me.agent.id;
  // The assignee reading the chat clears its unread counter.
  useEffect(() => {
    if (!conv || !mine || !conv.unread || !visible || reading.current) return;
    reading.current = true;
    api.markRead(cid).then(() => {
      const c = getRow(cid);
      if (c && c.unread) putRow({ ...c, unread: 0 });
    }, () => {}).finally(() => { reading.current = false; });
  }, [cid, mine, conv && conv.unread, visible]);

  if (!Number.isInteger(cid) || cid <= 0) {
    return html`<div class="chat-empty"><p>There is no such request.</p></div>`;
  }
  if (loadError && !conv) {
    return html`<div class="chat-empty" id="chat-error">
      <p class="status status-error" role="alert">${loadError.status === 404 ? `Request #${cid} was not found, or you have no access to it.` : loadError.message}</p>
      <a class="btn btn-small" href="#/all">Back to All chats</a>
    </div>`;
  }
  if (!conv) return html`<div class="chat-empty"><p class="muted" role="status">Loading the request…</p></div>`;

  const open = !conv.closed_at;
  const supervisor = hasRight(me, 'omnichannel.management');
  const canWrite = open && (mine || supervisor);
  const canTake = open && conv.mode === 'live' && !conv.assignee_id && hasRight(me, 'omnichannel.unassigned');

  async function run(fn) {
    setBusy(true);
    setActionError('');
    try {
      const c = await fn();
      if (c && c.id) putRow(c);
      return true;
    } catch (err) {
      setActionError(err.message);
      if (err.status === 409) {
        const t = fetchTick();
        api.getConversation(cid).then((c) => mergeRows([c], t), () => {});
      }
      return false;
    } finally {
      setBusy(false);
    }
  }

  function onAction(kind, arg) {
    if (kind === 'status') return arg === conv.status_id ? null : run(() => api.setConversationStatus(cid, arg));
    if (kind === 'close') return run(() => api.closeConversation(cid));
    if (kind === 'classic') return run(() => api.classicConversation(cid));
    if (kind === 'take') return run(() => api.takeConversation(cid));
    return null;
  }

  let bottom;
  if (canWrite) {
    bottom = html`<${Composer} key=${cid} conv=${conv} onSent=${msgs.add} />`;
  } else if (!open) {
    bottom = html`<p class="chat-readonly" id="chat-readonly">This request is closed.</p>`;
  } else if (canTake) {
    bottom = html`<div class="chat-readonly chat-take">
      <span>This request is waiting in the queue.</span>
      <button type="button" class="btn btn-primary" data-action="take" id="chat-take" disabled=${busy}
        onClick=${() => onAction('take')}>${busy ? 'Taking…' : 'Take the chat'}</button>
    </div>`;
  } else if (conv.assignee_id) {
    bottom = html`<p class="chat-readonly" id="chat-readonly">Assigned to ${agentName(agentList, conv.assignee_id)}</p>`;
  } else {
    bottom = html`<p class="chat-readonly" id="chat-readonly">This request is not assigned yet.</p>`;
  }

  const typingNow = open && isTyping(cid);
  // Collision: another agent (a supervisor, say) writing in this request too.
  const others = open ? typingAgents(cid) : [];
  const collision = others.length ? html`<p class="typing collision" id="collision-note" role="status">
    ${others.map((aid) => agentName(agentList, aid)).join(', ')} ${others.length > 1 ? 'are' : 'is'} typing…</p>` : null;
  const footer = typingNow || collision ? html`${typingNow ? html`<p class="typing" id="typing-indicator" role="status">Client is typing…</p>` : null}${collision}` : null;
  return html`<div class="chat-layout ${showClient ? 'show-client' : ''}" id="chat" data-conversation-id=${cid}>
    <section class="chat-main" aria-label="Chat">
      <${ChatHeader} conv=${conv} me=${me} canWrite=${canWrite} canTake=${canTake} statusList=${statusList} agentList=${agentList}
        busy=${busy} onAction=${onAction} onTransfer=${() => setTransferring(true)} onToggleClient=${() => setShowClient(!showClient)} />
      ${actionError ? html`<p class="status status-error banner" id="chat-action-error" role="alert">${actionError}</p>` : null}
      <${MessageList} conv=${conv} msgs=${msgs} onRetry=${canWrite ? msgs.retried : undefined}
        footer=${footer} />
      ${bottom}
    </section>
    <${ClientPanel} conv=${conv} editable=${canWrite} onOpenPrevious=${setPrevious} />
    ${transferring ? html`<${TransferDialog} conv=${conv} onClose=${() => setTransferring(false)}
      onDone=${(c) => { putRow(c); setTransferring(false); }} />` : null}
    ${previous ? html`<${PreviousDialog} key=${previous} id=${previous} onClose=${() => setPrevious(0)} />` : null}
  </div>`;
}
