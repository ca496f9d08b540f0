// The composer of a chat: reply or internal note, files, Enter to send,
// "/tag" templates and ":shortcode" emoji suggestions.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import * as api from './api.js';
import { templatesFor } from './directory.js';
import { emojiFor, emojiLoaded, loadEmoji, onEmojiReady, searchEmoji } from './emoji.js';
import { fileSize } from './format.js';

const drafts = new Map(); // request id → unsent text, kept while switching chats
export const clearDrafts = () => drafts.clear();

const TEMPLATE_AT_CARET = /(^|\s)\/([\p{L}\p{N}_-]*)$/u;
const TEMPLATE_BEFORE_SPACE = /(^|\s)\/([\p{L}\p{N}_-]+)\s$/u;
const EMOJI_AT_CARET = /(^|[\s(])(:([a-z0-9_+-]{2,}))$/i;
const EMOJI_CLOSED = /(^|[\s(]):([a-z0-9_+-]{2,}):$/i;
const MAX_SUGGESTIONS = 8;
const TYPING_EVERY_MS = 3000; // at most one "agent is typing" call per chat in this time

function matchTemplates(list, query) {
  const q = query.toLowerCase();
  const starts = list.filter((t) => t.tag.toLowerCase().startsWith(q));
  const contains = list.filter((t) => !t.tag.toLowerCase().startsWith(q) && t.tag.toLowerCase().includes(q));
  return [...starts, ...contains].slice(0, MAX_SUGGESTIONS);
}

const exactTemplate = (list, tag) => (list || []).find((t) => t.tag.toLowerCase() === tag.toLowerCase());

export function Composer({ conv, onSent }) {
  const cid = conv.id;
  const [text, setText] = useState(drafts.get(cid) || '');
  const [mode, setMode] = useState('reply');
  const [files, setFiles] = useState([]);
  const [suggest, setSuggest] = useState(null); // {type, start, end, items, index}
  const [templates, setTemplates] = useState(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState('');
  const area = useRef(null);
  const caretAfter = useRef(null);
  const textRef = useRef(text);
  textRef.current = text;
  const templatesRef = useRef(null);
  templatesRef.current = templates;
  const typingSent = useRef({ cid: 0, at: 0 });

  // Load the channel's templates ahead, so "/tag " expands without a wait.
  useEffect(() => {
    let alive = true;
    templatesFor(conv.channel_kind).then((list) => {
      if (!alive) return;
      setTemplates(list);
      templatesRef.current = list;
      // Expand any "/tag " typed before the list arrived, then refresh suggestions.
      const el = area.current;
      if (el) {
        const expanded = expandTyped(el.value, el.selectionStart, list, true);
        if (expanded) apply(expanded.value, expanded.caret);
        else refreshSuggest(el.value, el.selectionStart);
      }
    }, () => {});
    return () => { alive = false; };
  }, [conv.channel_kind]);

  useEffect(() => {
    const el = area.current;
    if (el && !el.disabled) el.focus();
  }, [cid]);

  useLayoutEffect(() => {
    const el = area.current;
    if (el && caretAfter.current !== null) {
      el.focus();
      el.setSelectionRange(caretAfter.current, caretAfter.current);
      caretAfter.current = null;
    }
  });

  function apply(value, caret) {
    setText(value);
    textRef.current = value;
    drafts.set(cid, value);
    caretAfter.current = caret;
    refreshSuggest(value, caret);
  }

  // expandTyped replaces "/tag " just before the caret (or anywhere, when
  // the templates arrived late) with the template's content.
  function expandTyped(value, caret, list, anywhere) {
    if (!list || !list.length) return null;
    const before = value.slice(0, caret);
    const m = TEMPLATE_BEFORE_SPACE.exec(before);
    if (m) {
      const t = exactTemplate(list, m[2]);
      if (t) {
        const start = before.length - m[2].length - 2;
        const next = value.slice(0, start) + t.content + value.slice(caret - 1);
        return { value: next, caret: start + t.content.length + 1 };
      }
    }
    if (!anywhere) return null;
    let changed = false;
    let pos = caret;
    const next = value.replace(/(^|\s)\/([\p{L}\p{N}_-]+)(?=\s)/gu, (all, lead, tag, offset) => {
      const t = exactTemplate(list, tag);
      if (!t) return all;
      changed = true;
      if (offset < pos) pos += t.content.length - tag.length - 1;
      return lead + t.content;
    });
    return changed ? { value: next, caret: pos } : null;
  }

  // When the emoji list arrives, the composer on screen (whichever instance
  // that is by then) converts and suggests from what was typed meanwhile.
  useEffect(() => onEmojiReady(onEmojiLoaded), []);

  // onEmojiLoaded converts every ":code:" typed while the list was loading,
  // then shows suggestions for the word at the caret.
  function onEmojiLoaded() {
    const el = area.current;
    if (!el) return;
    let caret = el.selectionStart;
    const value = el.value.replace(/(^|[\s(]):([a-z0-9_+-]{2,}):(?=$|[\s.,!?)])/gi, (all, lead, code, offset) => {
      const emoji = emojiFor(code);
      if (!emoji) return all;
      if (offset < caret) caret += emoji.length - code.length - 2;
      return lead + emoji;
    });
    if (value !== el.value) apply(value, caret);
    else refreshSuggest(value, caret);
  }

  function refreshSuggest(value, caret) {
    const before = value.slice(0, caret);
    const tm = TEMPLATE_AT_CARET.exec(before);
    if (tm) {
      const start = before.length - tm[2].length - 1;
      const list = templatesRef.current;
      if (!list) {
        setSuggest({ type: 'template', start, end: caret, items: [], index: 0, loading: true });
        return;
      }
      setSuggest({ type: 'template', start, end: caret, items: matchTemplates(list, tm[2]), index: 0 });
      return;
    }
    const em = EMOJI_AT_CARET.exec(before);
    if (em) {
      const start = before.length - em[2].length;
      if (!emojiLoaded()) {
        setSuggest(null);
        loadEmoji().catch(() => {});
        return;
      }
      const items = searchEmoji(em[3], MAX_SUGGESTIONS);
      setSuggest(items.length ? { type: 'emoji', start, end: caret, items, index: 0 } : null);
      return;
    }
    // ":code:" typed before the list arrived is converted once it is there.
    const closed = EMOJI_CLOSED.exec(before);
    if (closed) {
      if (!emojiLoaded()) {
        loadEmoji().catch(() => {});
      } else {
        const emoji = emojiFor(closed[2]);
        if (emoji) {
          const start = caret - closed[2].length - 2;
          apply(value.slice(0, start) + emoji + value.slice(caret), start + emoji.length);
          return;
        }
      }
    }
    setSuggest(null);
  }

  // typed tells the client an agent is writing a reply (never for notes);
  // fire and forget, at most once every TYPING_EVERY_MS.
  function typed(value) {
    if (mode !== 'reply' || !value.trim()) return;
    const last = typingSent.current;
    const now = Date.now();
    if (last.cid === cid && now - last.at < TYPING_EVERY_MS) return;
    typingSent.current = { cid, at: now };
    api.sendTyping(cid).catch(() => {});
  }

  function onInput(e) {
    const el = e.currentTarget;
    let value = el.value;
    let caret = el.selectionStart;
    typed(value);
    if (e.data === ' ' || e.inputType === 'insertLineBreak') {
      const expanded = expandTyped(value, caret, templatesRef.current, false);
      if (expanded) {
        apply(expanded.value, expanded.caret);
        return;
      }
    }
    if (e.data === ':' && emojiLoaded()) {
      const m = EMOJI_CLOSED.exec(value.slice(0, caret));
      const emoji = m && emojiFor(m[2]);
      if (emoji) {
        const start = caret - m[2].length - 2;
        apply(value.slice(0, start) + emoji + value.slice(caret), start + emoji.length);
        return;
      }
    }
    setText(value);
    textRef.current = value;
    drafts.set(cid, value);
    refreshSuggest(value, caret);
  }

  function choose(index) {
    const s = suggest;
    if (!s || !s.items[index]) return;
    const value = textRef.current;
    const insert = s.type === 'template' ? s.items[index].content : s.items[index][1];
    apply(value.slice(0, s.start) + insert + value.slice(s.end), s.start + insert.length);
    setSuggest(null);
  }

  // An Enter used for choosing or sending must not also insert a line break
  // (some input paths deliver the character separately from the keydown).
  const swallowEnter = useRef(false);
  function onKeyPress(e) {
    if (e.key === 'Enter' && swallowEnter.current) e.preventDefault();
  }
  function onBeforeInput(e) {
    if (swallowEnter.current && (e.inputType === 'insertLineBreak' || e.inputType === 'insertParagraph')) {
      e.preventDefault();
      swallowEnter.current = false;
    }
  }
  function onKeyUp(e) {
    if (e.key === 'Enter') swallowEnter.current = false;
  }

  function onKeyDown(e) {
    swallowEnter.current = false;
    if (e.isComposing) return;
    if (suggest && suggest.items.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = suggest.items.length;
        const index = (suggest.index + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
        setSuggest({ ...suggest, index });
        return;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
        e.preventDefault();
        swallowEnter.current = e.key === 'Enter';
        choose(suggest.index);
        return;
      }
    }
    if (suggest && e.key === 'Escape') {
      e.preventDefault();
      setSuggest(null);
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      swallowEnter.current = true;
      send();
    }
  }

  function addFiles(list) {
    const chosen = [...files];
    for (const f of list) {
      if (f.size > api.MAX_FILE_BYTES) {
        setError(`“${f.name}” is larger than 10 MiB.`);
        continue;
      }
      if (f.size === 0) {
        setError(`“${f.name}” is empty.`);
        continue;
      }
      if (chosen.length >= api.MAX_FILES) {
        setError(`At most ${api.MAX_FILES} files per message.`);
        break;
      }
      chosen.push(f);
    }
    setFiles(chosen);
  }

  function onFiles(e) {
    const input = e.currentTarget;
    setError('');
    addFiles([...(input.files || [])]);
    input.value = '';
  }

  function onPaste(e) {
    const pasted = e.clipboardData && [...e.clipboardData.files];
    if (pasted && pasted.length) {
      e.preventDefault();
      setError('');
      addFiles(pasted);
    }
  }

  // send clears the composer at once (typing can go on) and puts the text
  // and files back if the server refuses the message.
  async function send() {
    if (sending) return;
    const body = textRef.current.trim();
    if (!body && !files.length) return;
    const sentFiles = files;
    setSending(true);
    setError('');
    setSuggest(null);
    setText('');
    textRef.current = '';
    drafts.delete(cid);
    setFiles([]);
    try {
      const msg = await api.postMessage(cid, mode, body, sentFiles);
      if (onSent) onSent(msg);
    } catch (err) {
      setError(err.message);
      if (!textRef.current.trim()) {
        setText(body);
        textRef.current = body;
        drafts.set(cid, body);
      }
      setFiles((now) => (now.length ? now : sentFiles));
    } finally {
      setSending(false);
    }
  }

  const note = mode === 'note';
  return html`<div class="composer ${note ? 'composer-note' : ''}" id="composer-box">
    ${suggest ? html`<${Suggestions} suggest=${suggest} onChoose=${choose}
      onHover=${(index) => setSuggest({ ...suggest, index })} />` : null}
    <div class="composer-modes" role="group" aria-label="Message type">
      <button type="button" class="mode-btn ${note ? '' : 'active'}" data-mode="reply" aria-pressed=${note ? 'false' : 'true'}
        onClick=${() => { setMode('reply'); area.current?.focus(); }}>Reply</button>
      <button type="button" class="mode-btn ${note ? 'active' : ''}" data-mode="note" aria-pressed=${note ? 'true' : 'false'}
        onClick=${() => { setMode('note'); area.current?.focus(); }}>Internal note</button>
      <span class="composer-hint muted">${note ? 'Only agents see notes.' : 'Enter sends · Shift+Enter new line · / templates · :emoji'}</span>
    </div>
    <label class="visually-hidden" for="composer">${note ? 'Internal note' : 'Reply to the client'}</label>
    <textarea id="composer" rows="3" value=${text}
      placeholder=${note ? 'Write an internal note for agents…' : 'Write a reply…'}
      aria-autocomplete="list" aria-expanded=${suggest && suggest.items.length ? 'true' : 'false'}
      aria-controls=${suggest ? (suggest.type === 'template' ? 'template-suggestions' : 'emoji-suggestions') : undefined}
      ref=${area} onInput=${onInput} onKeyDown=${onKeyDown} onKeyPress=${onKeyPress} onKeyUp=${onKeyUp}
      onBeforeInput=${onBeforeInput} onPaste=${onPaste}
      onClick=${(e) => refreshSuggest(e.currentTarget.value, e.currentTarget.selectionStart)}
      onBlur=${() => setTimeout(() => { if (document.activeElement !== area.current) setSuggest(null); }, 150)}></textarea>
    ${files.length ? html`<ul class="composer-files" id="composer-file-list">
      ${files.map((f, i) => html`<li class="file-chip" key=${f.name + i}>
        <span class="file-chip-name">${f.name}</span> <span class="muted">${fileSize(f.size)}</span>
        <button type="button" class="icon-btn icon-btn-small" aria-label="Remove ${f.name}"
          onClick=${() => setFiles(files.filter((_, j) => j !== i))}>×</button>
      </li>`)}
    </ul>` : null}
    <div class="composer-actions">
      <label class="btn btn-small file-btn ${sending ? 'is-disabled' : ''}" title="Attach files (up to 5, 10 MiB each)">
        Attach files
        <input type="file" id="composer-files" class="visually-hidden" multiple disabled=${sending} onChange=${onFiles} />
      </label>
      <p class="status status-error" id="composer-status" role="alert">${error}</p>
      <button type="button" id="composer-send" class="btn ${note ? 'btn-note' : 'btn-primary'}"
        disabled=${sending} onClick=${send}>${sending ? 'Sending…' : note ? 'Add note' : 'Send'}</button>
    </div>
  </div>`;
}

function Suggestions({ suggest, onChoose, onHover }) {
  const keep = (e) => e.preventDefault(); // keep the focus in the textarea
  if (suggest.type === 'template') {
    return html`<ul class="suggestions" id="template-suggestions" role="listbox" aria-label="Templates">
      ${suggest.loading ? html`<li class="suggestion-empty">Loading templates…</li>` : null}
      ${!suggest.loading && !suggest.items.length ? html`<li class="suggestion-empty">No templates match. Templates are set up in Settings.</li>` : null}
      ${suggest.items.map((t, i) => html`<li key=${t.id} role="option" data-template-tag=${t.tag}
        aria-selected=${i === suggest.index ? 'true' : 'false'} class="suggestion ${i === suggest.index ? 'active' : ''}"
        onMouseDown=${keep} onMouseEnter=${() => onHover(i)} onClick=${() => onChoose(i)}>
        <span class="suggestion-tag">/${t.tag}</span>
        <span class="suggestion-text">${t.content}</span>
      </li>`)}
    </ul>`;
  }
  return html`<ul class="suggestions suggestions-emoji" id="emoji-suggestions" role="listbox" aria-label="Emoji">
    ${suggest.items.map(([code, emoji], i) => html`<li key=${code} role="option" data-emoji-shortcode=${code}
      aria-selected=${i === suggest.index ? 'true' : 'false'} class="suggestion ${i === suggest.index ? 'active' : ''}"
      onMouseDown=${keep} onMouseEnter=${() => onHover(i)} onClick=${() => onChoose(i)}>
      <span class="suggestion-emoji">${emoji}</span>
      <span class="suggestion-tag">:${code}:</span>
    </li>`)}
  </ul>`;
}
