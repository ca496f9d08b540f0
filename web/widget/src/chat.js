// Switchboard website chat widget: the chat panel (served at
// /widget/chat-<hash>.js). It is loaded by src/loader.js, whose header
// comment describes the contract: this file calls
// window.Switchboard._boot(factory) once, and factory(ctx) returns
// {open, close, update}.
//
// All text from the server or the visitor is set with textContent or as text
// nodes, never parsed as HTML.
((w) => {
  const SB = w.Switchboard;
  if (SB && SB._boot) SB._boot(chat);

  function chat(ctx) {
    const d = document;
    const LIMIT = 10 << 20; // the server's limit for one file
    const outboxKey = 'switchboard:' + ctx.channel + ':outbox';

    const el = (tag, cls, text) => {
      const e = d.createElement(tag);
      if (cls) e.className = cls;
      if (text != null) e.textContent = text;
      return e;
    };
    const iconButton = (path, label, cls) => {
      const b = el('button', 'sb-i' + (cls ? ' ' + cls : ''));
      b.type = 'button';
      b.setAttribute('aria-label', label);
      b.append(ctx.svg(path));
      return b;
    };
    const abs = (url) => (url && url[0] === '/' && url[1] !== '/' ? ctx.base + url : url || '');
    const time = (t) => {
      const dt = new Date(t);
      return isNaN(dt) ? '' : dt.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    };
    const uuid = () =>
      (w.crypto && crypto.randomUUID && crypto.randomUUID()) ||
      Date.now().toString(36) + '-' + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
    const body = (r) => r.json().catch(() => ({}));
    const errorOf = (r, j) => (j.error && j.error.message) || 'Not sent (error ' + r.status + ').';

    ctx.css(
      '[hidden]{display:none!important}' +
        '.sb-p{position:fixed;z-index:2147483000;bottom:88px;right:20px;width:370px;height:min(600px,calc(100vh - 110px));display:flex;flex-direction:column;' +
        'background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25);overflow:hidden}' +
        '.left .sb-p{right:auto;left:20px}' +
        '.sb-h{display:flex;align-items:center;gap:10px;padding:10px 10px 10px 16px;background:var(--sb-vb);color:var(--sb-vt)}' +
        '.sb-av{width:36px;height:36px;border-radius:50%;overflow:hidden;flex:none;display:flex;align-items:center;justify-content:center;background:rgba(255,255,255,.3);font-weight:600;text-transform:uppercase}' +
        '.sb-av img{width:100%;height:100%;object-fit:cover}' +
        '.sb-ts{flex:1;min-width:0}' +
        '.sb-t{font-weight:600;font-size:15px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}' +
        '.sb-st{font-size:12px;opacity:.85}.sb-st:empty{display:none}' +
        '.sb-i{flex:none;width:36px;height:36px;border:0;border-radius:8px;padding:0;background:none;color:inherit;cursor:pointer;display:flex;align-items:center;justify-content:center}' +
        '.sb-i:hover{background:rgba(127,127,127,.15)}.sb-i svg{width:22px;height:22px;fill:currentColor}' +
        '.sb-bn{padding:8px 16px;font-size:13px;background:#fff8e1;color:#6b4f00}.sb-bn:empty{display:none}' +
        '.sb-ls{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}' +
        '.sb-m{max-width:80%;display:flex;flex-direction:column;flex:none}' +
        '.sb-v{align-self:flex-end;align-items:flex-end}.sb-a{align-self:flex-start;align-items:flex-start}' +
        '.sb-s{align-self:center;text-align:center;font-size:12px;color:#6b7280;max-width:90%;white-space:pre-wrap}' +
        '.sb-who{font-size:12px;color:#6b7280;margin:0 4px 2px}' +
        '.sb-b{padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}' +
        '.sb-b:empty{display:none}' +
        '.sb-v .sb-b{background:var(--sb-vb);color:var(--sb-vt);border-bottom-right-radius:4px}' +
        '.sb-a .sb-b{background:var(--sb-ab);color:var(--sb-at);border-bottom-left-radius:4px}' +
        '.sb-b a{color:inherit}' +
        '.sb-f{display:block;margin-top:4px;color:#2563eb;overflow-wrap:anywhere}' +
        '.sb-f img{display:block;max-width:100%;max-height:200px;border-radius:8px}' +
        '.sb-mt{font-size:11px;color:#9ca3af;margin:2px 4px 0}.sb-mt:empty{display:none}' +
        '.sb-read .sb-mt:after{content:" · Read"}' +
        '.sb-pend .sb-b{opacity:.65}.sb-err .sb-mt{color:#dc2626}' +
        '.sb-ty{padding:0 16px 6px;font-size:12px;color:#6b7280;font-style:italic}.sb-ty:empty{display:none}' +
        '.sb-ch{margin:0 12px 4px;padding:4px 4px 4px 10px;font-size:12px;background:#f3f4f6;border-radius:8px;display:flex;align-items:center;gap:6px}' +
        '.sb-ch span{flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.sb-ch .sb-i{width:24px;height:24px}.sb-ch svg{width:16px;height:16px}' +
        '.sb-w{padding:8px 16px;font-size:13px;color:#b91c1c;background:#fef2f2}.sb-w:empty{display:none}' +
        '.sb-c{display:flex;align-items:flex-end;gap:2px;padding:6px;border-top:1px solid #e5e7eb;color:#6b7280}' +
        '.sb-c textarea{flex:1;resize:none;border:0;outline:0;font:inherit;color:#1f2937;background:none;padding:8px 4px;height:36px;max-height:120px}' +
        '.sb-sd{color:var(--sb-vb)}' +
        '.sb-fm{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:10px}' +
        '.sb-fm p{margin:0}' +
        '.sb-fm label{display:flex;flex-direction:column;gap:4px;font-size:13px;font-weight:600}' +
        '.sb-fm input,.sb-fm textarea{font:inherit;font-weight:400;padding:8px 10px;border:1px solid #d1d5db;border-radius:8px;color:#1f2937}' +
        '.sb-fm textarea{min-height:100px;resize:vertical}' +
        '.sb-bt{align-self:flex-start;padding:9px 18px;border:0;border-radius:8px;background:var(--sb-vb);color:var(--sb-vt);font:inherit;font-weight:600;cursor:pointer}' +
        '.sb-bt:disabled{opacity:.6}' +
        '@media (max-width:419px){.sb-p{inset:0;width:auto;height:auto;border-radius:0}.open .sb-l{display:none}}'
    );

    // The panel.
    const panel = el('div', 'sb-p');
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', 'Chat');
    panel.hidden = true;
    const head = el('div', 'sb-h');
    const avatar = el('span', 'sb-av');
    const titles = el('div', 'sb-ts');
    const title = el('div', 'sb-t');
    const subtitle = el('div', 'sb-st');
    const closeButton = iconButton(ctx.x, 'Close chat');
    titles.append(title, subtitle);
    head.append(avatar, titles, closeButton);
    const banner = el('div', 'sb-bn');
    const list = el('div', 'sb-ls');
    list.setAttribute('role', 'log');
    list.setAttribute('aria-live', 'polite');
    const typing = el('div', 'sb-ty');
    const chip = el('div', 'sb-ch');
    const chipName = el('span');
    const chipRemove = iconButton(ctx.x, 'Remove the file');
    chip.append(chipName, chipRemove);
    chip.hidden = true;
    const warn = el('div', 'sb-w');
    warn.setAttribute('role', 'alert');
    const composer = el('form', 'sb-c');
    const fileInput = el('input');
    fileInput.type = 'file';
    fileInput.hidden = true;
    const attach = iconButton(
      'M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z',
      'Attach a file'
    );
    const textarea = el('textarea');
    textarea.rows = 1;
    textarea.placeholder = 'Write a message…';
    textarea.setAttribute('aria-label', 'Message');
    const sendButton = iconButton('M2 21l21-9L2 3v7l15 2-15 2z', 'Send', 'sb-sd');
    sendButton.type = 'submit';
    composer.append(fileInput, attach, textarea, sendButton);

    // The request form, when nobody is online.
    const form = el('form', 'sb-fm');
    const field = (label, tag, type, auto) => {
      const l = el('label', '', label);
      const f = el(tag);
      if (type) f.type = type;
      if (auto) f.autocomplete = auto;
      f.required = true;
      l.append(f);
      return [l, f];
    };
    const [nameLabel, nameField] = field('Name', 'input', 'text', 'name');
    const [emailLabel, emailField] = field('Email', 'input', 'email', 'email');
    const [messageLabel, messageField] = field('Message', 'textarea');
    const formError = el('div', 'sb-w');
    const formButton = el('button', 'sb-bt', 'Send');
    form.append(el('p', '', 'Nobody is online right now. Leave us a message and we will answer by email.'), nameLabel, emailLabel, messageLabel, formError, formButton);
    form.hidden = true;

    panel.append(head, banner, list, typing, form, chip, warn, composer);
    ctx.root.append(panel);

    // State.
    let isOpen = false;
    let token = null; // the token the list belongs to
    let gen = 0; // bumped when the list is reset; stale answers are dropped
    let seen = new Map(); // message id → element
    let lastId = 0;
    let firstId = 0;
    let loaded = false; // the history has been fetched
    let more = false; // there may be older messages
    let older = false; // fetching older messages
    let agent = null; // who answers, {name, avatar_url}
    let sent = false; // the request form was sent
    let file = null; // the file chosen for the next message
    let unread = (ctx.session && ctx.session.conversation && ctx.session.conversation.unread) || 0;
    let typingTimer;
    let typedAt = 0;
    let previewId = 100;

    // Rendering.
    const linkify = (node, text) =>
      String(text || '')
        .split(/(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'"])/)
        .forEach((part, i) => {
          if (i % 2) {
            const a = el('a', '', part);
            a.href = part;
            a.target = '_blank';
            a.rel = 'noopener noreferrer';
            node.append(a);
          } else if (part) node.append(part);
        });

    const fileUrl = (url) => {
      url = abs(url);
      if (ctx.token && url.indexOf(ctx.base + '/widget/') === 0 && !/[?&]token=/.test(url)) {
        url += (url.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(ctx.token);
      }
      return /^https?:\/\//i.test(url) ? url : '';
    };

    const team = () => {
      const t = ctx.session && ctx.session.team;
      return t && t.name ? t : null;
    };

    const down = () => (list.scrollTop = list.scrollHeight);

    const render = (m) => {
      const who = m.from === 'visitor' ? 'v' : m.from === 'agent' ? 'a' : 's';
      const row = el('div', 'sb-m sb-' + who);
      if (who === 's') {
        row.textContent = m.body || '';
        return row;
      }
      if (who === 'a') {
        const name = ctx.app.department_avatar && team() ? team().name : m.author && m.author.name;
        if (name) row.append(el('div', 'sb-who', name));
      }
      const bubble = el('div', 'sb-b');
      linkify(bubble, m.body);
      row.append(bubble);
      for (const a of m.attachments || []) {
        const url = fileUrl(a.url);
        const link = el('a', 'sb-f');
        if (url) {
          link.href = url;
          link.target = '_blank';
          link.rel = 'noopener noreferrer';
        }
        if (url && /^image\//.test(a.content_type)) {
          const img = el('img');
          img.alt = a.filename || '';
          img.onload = () => {
            if (list.scrollHeight - list.scrollTop - list.clientHeight < img.height + 80) down();
          };
          img.src = url;
          link.append(img);
        } else {
          link.textContent = '📎 ' + (a.filename || 'file');
          link.download = a.filename || '';
        }
        row.append(link);
      }
      row.append(el('div', 'sb-mt', time(m.created_at)));
      return row;
    };

    // add shows message m once: it replaces old (its "sending" element) or
    // goes before `before` (default: the first message still sending).
    // It answers whether m was new.
    const add = (m, old, before) => {
      const have = seen.get(m.id);
      if (have) {
        if (old && old !== have) old.remove();
        return false;
      }
      const row = render(m);
      row.dataset.id = m.id;
      seen.set(m.id, row);
      if (m.id > lastId) lastId = m.id;
      if (!firstId || m.id < firstId) firstId = m.id;
      if (old) old.replaceWith(row);
      else list.insertBefore(row, before === undefined ? list.querySelector('.sb-pend') : before);
      if (m.from === 'agent' && m.author && m.author.name) {
        agent = m.author;
        header();
      }
      return true;
    };

    // fresh tells about a message that arrived now (not from history).
    const fresh = (m) => {
      ctx.emit('message', m);
      if (m.from === 'agent') {
        showTyping('');
        if (!isOpen) ctx.unread(++unread);
      }
      down();
    };

    const showTyping = (name, keep) => {
      clearTimeout(typingTimer);
      typing.textContent = name ? name + ' is typing…' : '';
      if (name && !keep) typingTimer = setTimeout(showTyping, 6e3, '');
    };

    const header = () => {
      const t = team();
      const who = t || (agent && agent.name ? agent : null);
      title.textContent = who ? who.name : 'Chat with us';
      subtitle.textContent = t && agent && agent.name && !ctx.app.department_avatar ? agent.name : '';
      avatar.textContent = '';
      avatar.hidden = !who;
      if (who && who.avatar_url) {
        const img = el('img');
        img.alt = '';
        img.src = abs(who.avatar_url);
        avatar.append(img);
      } else if (who) avatar.textContent = String(who.name).trim().charAt(0);
    };

    // The visitor's place in the queue while nobody has taken the chat.
    let place = null;
    const placeText = (q) => {
      const min = Math.ceil((q.wait_seconds || 0) / 60);
      return 'You are number ' + q.position + ' in the queue' + (min ? ', about ' + min + ' min' : '') + '.';
    };

    const view = () => {
      const s = ctx.session;
      const err = ctx.error;
      const showForm = !!(!err && s && s.form && !sent && !(s.conversation && s.conversation.open));
      form.hidden = !showForm;
      list.hidden = showForm;
      composer.hidden = showForm || sent || !!err;
      chip.hidden = composer.hidden || !file;
      warn.textContent = err || '';
      banner.textContent = place ? placeText(place)
        : s && !s.online && !s.form && !sent ? 'Our team will answer as soon as possible.' : '';
      if (showForm) {
        if (!nameField.value) nameField.value = ctx.user.name || '';
        if (!emailField.value) emailField.value = ctx.user.email || '';
      }
      header();
    };

    // The outbox: messages not yet acknowledged by the server. Text messages
    // survive a reload (localStorage); files only live as long as the page.
    let outbox = [];
    try {
      outbox = JSON.parse(ctx.get(outboxKey)) || [];
    } catch (e) {
      /* a broken outbox is dropped */
    }
    let inflight = null;
    let flushing = false;
    let flushTimer;
    let flushTries = 0;

    const save = () => {
      const keep = outbox.filter((i) => !i.file).map((i) => ({ key: i.key, text: i.text }));
      ctx.set(outboxKey, keep.length ? JSON.stringify(keep) : null);
    };

    const pending = (it) => {
      const row = el('div', 'sb-m sb-v sb-pend');
      const bubble = el('div', 'sb-b');
      linkify(bubble, it.text);
      row.append(bubble);
      if (it.file) row.append(el('div', 'sb-f', '📎 ' + it.file.name));
      row.append(el('div', 'sb-mt', 'Sending…'));
      list.append(row);
      it.el = row;
    };
    outbox.forEach(pending);

    const flush = async () => {
      if (flushing || !ctx.token || ctx.preview) return;
      flushing = true;
      clearTimeout(flushTimer);
      try {
        while (outbox.length) {
          const it = (inflight = outbox[0]);
          let r;
          try {
            let data = JSON.stringify({ text: it.text, key: it.key });
            if (it.file) {
              data = new FormData();
              data.append('text', it.text);
              data.append('key', it.key);
              data.append('file', it.file);
            }
            r = await ctx.call('messages', data);
          } catch (e) {
            r = null; // offline or the network failed: keep it
          }
          if (!r || r.status >= 500 || r.status === 429) {
            flushTimer = setTimeout(flush, Math.min(60e3, 2e3 * 2 ** flushTries++));
            return;
          }
          flushTries = 0;
          outbox.shift();
          save();
          const j = await body(r);
          if (r.ok && j.message) {
            if (add(j.message, it.el)) fresh(j.message);
          } else {
            const row = it.el;
            row.classList.remove('sb-pend');
            row.lastChild.textContent = r.ok ? '' : errorOf(r, j);
            if (!r.ok) row.classList.add('sb-err');
          }
        }
      } finally {
        flushing = false;
        inflight = null;
      }
    };

    const sendMessage = (text, f) => {
      if (ctx.preview) {
        const m = { id: ++previewId, from: 'visitor', body: text, created_at: new Date().toISOString(), attachments: [] };
        if (f) m.attachments.push({ filename: f.name, content_type: '', url: '' });
        if (add(m)) fresh(m);
        return;
      }
      const it = { key: uuid(), text };
      if (f) it.file = f;
      outbox.push(it);
      save();
      pending(it);
      down();
      flush();
    };

    // The websocket, with the history fetched first so that after= is right.
    let ws = null;
    let busy = false;
    let tries = 0;
    let timer;
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(connect, Math.min(30e3, 1e3 * 2 ** tries++) * (0.75 + Math.random() / 2));
    };
    const connect = async () => {
      clearTimeout(timer);
      if (ws || busy || !ctx.token || ctx.preview) return;
      const g = gen;
      if (!loaded) {
        busy = true;
        try {
          const r = await ctx.call('messages');
          const j = await r.json();
          if (g !== gen) return;
          if (!r.ok) throw r;
          const ms = j.messages || [];
          ms.forEach((m) => add(m));
          more = ms.length >= 50;
          loaded = true;
          down();
        } catch (e) {
          if (g === gen) later();
          return;
        } finally {
          busy = false;
        }
      }
      const sock = (ws = new WebSocket(
        ctx.base.replace(/^http/, 'ws') +
          '/widget/' +
          ctx.channel +
          '/ws?token=' +
          encodeURIComponent(ctx.token) +
          '&after=' +
          lastId
      ));
      sock.onopen = () => {
        tries = 0;
        flush();
      };
      sock.onmessage = (e) => {
        try {
          frame(JSON.parse(e.data));
        } catch (err) {
          /* not a frame of ours */
        }
      };
      sock.onerror = () => sock.close();
      sock.onclose = () => {
        if (ws !== sock) return;
        ws = null;
        later();
      };
    };

    const frame = (f) => {
      if (f.type === 'message' && f.message) {
        const m = f.message;
        const it = inflight;
        // Our own message may come back on the socket before its POST answers.
        const old =
          it && m.from === 'visitor' && !seen.has(m.id) && (m.key ? m.key === it.key : (m.body || '') === it.text) ? it.el : undefined;
        if (add(m, old)) {
          if (old) it.el = seen.get(m.id);
          fresh(m);
        }
      } else if (f.type === 'typing') {
        showTyping(ctx.app.department_avatar && team() ? team().name : f.name || 'Someone');
      } else if (f.type === 'read') {
        for (const [id, row] of seen) if ((!f.until || id <= f.until) && row.classList.contains('sb-v')) row.classList.add('sb-read');
      } else if (f.type === 'queue') {
        place = f.position > 0 ? f : null;
        view();
      } else if (f.type === 'agent' && f.agent) {
        agent = f.agent;
        place = null;
        view();
      } else if (f.type === 'closed') {
        const c = ctx.session && ctx.session.conversation;
        if (c && c.id === f.conversation_id) c.open = false;
      }
    };

    const reset = () => {
      gen++;
      busy = loaded = more = false;
      const s = ws;
      ws = null;
      if (s) s.close();
      seen = new Map();
      lastId = firstId = 0;
      list.textContent = '';
      outbox.forEach((it) => list.append(it.el));
    };

    const loadOlder = async () => {
      const g = gen;
      older = true;
      try {
        const r = await ctx.call('messages?before=' + firstId);
        const j = await r.json();
        if (g !== gen || !r.ok) return;
        const ms = j.messages || [];
        const h = list.scrollHeight;
        const anchor = seen.get(firstId) || list.firstChild;
        ms.forEach((m) => add(m, null, anchor));
        more = ms.length >= 50;
        list.scrollTop += list.scrollHeight - h;
      } catch (e) {
        /* tried again on the next scroll */
      } finally {
        older = false;
      }
    };

    // Events.
    const shut = () => {
      ctx.close();
      const launcher = ctx.root.querySelector('.sb-l');
      if (launcher) launcher.focus();
    };
    closeButton.onclick = shut;
    panel.onkeydown = (e) => {
      if (e.key === 'Escape') shut();
    };
    list.onscroll = () => {
      if (list.scrollTop < 40 && loaded && more && !older) loadOlder();
    };
    attach.onclick = () => fileInput.click();
    const grow = () => {
      textarea.style.height = '';
      textarea.style.height = Math.min(textarea.scrollHeight, 120) + 'px';
    };
    const setFile = (f) => {
      file = f;
      chipName.textContent = f ? '📎 ' + f.name : '';
      chip.hidden = !f;
    };
    chipRemove.onclick = () => setFile(null);
    fileInput.onchange = () => {
      const f = fileInput.files[0];
      fileInput.value = '';
      warn.textContent = '';
      if (!f) return;
      if (f.size > LIMIT) {
        warn.textContent = '“' + f.name + '” is larger than 10 MB and cannot be sent.';
        return;
      }
      setFile(f);
      textarea.focus();
    };
    textarea.oninput = () => {
      grow();
      const now = Date.now();
      if (ctx.token && !ctx.preview && textarea.value.trim() && now - typedAt > 3e3) {
        typedAt = now;
        ctx.call('typing', '{}').catch(() => {});
      }
    };
    textarea.onkeydown = (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        composer.requestSubmit ? composer.requestSubmit() : composer.onsubmit(e);
      }
    };
    composer.onsubmit = (e) => {
      e.preventDefault();
      const text = textarea.value.trim();
      if (!text && !file) return;
      if (!ctx.error) warn.textContent = '';
      sendMessage(text, file);
      textarea.value = '';
      setFile(null);
      grow();
    };
    form.onsubmit = async (e) => {
      e.preventDefault();
      formButton.disabled = true;
      formError.textContent = '';
      try {
        const r = await ctx.call(
          'form',
          JSON.stringify({ name: nameField.value.trim(), email: emailField.value.trim(), message: messageField.value.trim() })
        );
        const j = await body(r);
        if (!r.ok) {
          formError.textContent = errorOf(r, j);
          return;
        }
        sent = true;
        if (j.message && add(j.message)) fresh(j.message);
        list.append(el('div', 'sb-m sb-s', 'Thank you, we will answer by email.'));
        view();
      } catch (err) {
        formError.textContent = 'No connection. Please try again.';
      } finally {
        formButton.disabled = false;
      }
    };
    w.addEventListener('online', () => {
      tries = flushTries = 0;
      flush();
      connect();
    });

    const api = {
      open() {
        const was = isOpen;
        isOpen = true;
        panel.hidden = false;
        unread = 0;
        ctx.unread(0);
        view();
        if (!was) {
          down();
          setTimeout(() => (form.hidden ? textarea : nameField).focus(), 0);
        }
      },
      close() {
        isOpen = false;
        panel.hidden = true;
      },
      update() {
        if (ctx.token !== token) {
          token = ctx.token;
          reset();
          connect();
        }
        view();
        flush();
      },
    };
    api.update();
    if (ctx.preview) {
      const now = Date.now();
      add({ id: 1, from: 'visitor', body: 'Hi! Do you ship to Canada?', created_at: new Date(now - 12e4).toISOString() });
      add({
        id: 2,
        from: 'agent',
        body: 'Hello! Yes, we ship worldwide. Delivery to Canada takes 5–7 days.',
        author: { name: 'Anna' },
        created_at: new Date(now - 6e4).toISOString(),
      });
      frame({ type: 'read', until: 1 });
      showTyping('Anna', true);
    }
    return api;
  }
})(window);
