// Switchboard website chat widget: the loader (served at /widget/loader.js).
//
// It starts the visitor session, sends page views and heartbeats, draws the
// launcher button in a shadow root and defines window.Switchboard. The chat
// itself (src/chat.js) is loaded only when the visitor opens the chat, or at
// once when the visitor has an open request so replies and the unread badge
// work.
//
// Contract between the loader and the chat bundle:
//
// The server replaces the text __CHAT_URL__ below with the content-hashed
// URL of the chat bundle. When that script runs it calls, exactly once,
//
//	window.Switchboard._boot(factory)
//
// and the loader calls factory(ctx). factory returns {open, close, update}:
// the loader calls open()/close() when the panel is to be shown or hidden
// (the loader owns the open state) and update() after any field of ctx below
// changed (a new session answer, setUser, the preview's appearance).
//
// ctx, one object kept up to date by the loader:
//
//	base     server base URL, e.g. "https://support.example.com"
//	channel  the channel id (string)
//	preview  true on the settings preview: no session, no network, no storage
//	root     the element inside the shadow root that holds the launcher; the
//	         chat appends its panel to it. It carries the class "left" when
//	         the widget sits bottom-left and "open" while the chat is open,
//	         and the custom properties --sb-vb, --sb-vt (visitor background
//	         and text), --sb-ab, --sb-at (agent background and text).
//	css(text)            adds a stylesheet to the shadow root
//	svg(pathData)        returns a 24×24 <svg> icon element
//	get(key), set(key, value)  localStorage that never throws (value null
//	                     removes; both do nothing in preview)
//	call(path, body)     fetch(base + "/widget/" + channel + "/" + path) with
//	                     the visitor's Bearer token; POST when body is given,
//	                     JSON content type when body is a string
//	token    the visitor token, or "" before the session answered
//	session  the last session answer, or null
//	error    the message of an identity_unverified answer, else ""
//	user     {name, email, hash} from the data-user-* attributes or setUser
//	app      the appearance in force
//	emit(event, data)    calls the Switchboard.on listeners
//	unread(n)            shows n on the launcher badge, emits "unread"
//	close()              = Switchboard.close()
//	x        the path data of the close (×) icon
((d, w) => {
  const me = d.currentScript || d.querySelector('script[data-channel][src*="/widget/loader.js"]');
  if (!me || (w.Switchboard && w.Switchboard._boot)) return;
  const ds = me.dataset;
  const channel = ds.channel;
  const preview = 'preview' in ds;
  const src = new URL(me.src, location.href);
  const base = src.origin + src.pathname.replace(/\/widget\/loader\.js$/, '');
  const tokenKey = 'switchboard:' + channel;
  const listeners = {};
  const NS = 'http://www.w3.org/2000/svg';

  const get = (k) => {
    try {
      return preview ? null : localStorage.getItem(k);
    } catch (e) {
      return null;
    }
  };
  const set = (k, v) => {
    try {
      if (!preview) v == null ? localStorage.removeItem(k) : localStorage.setItem(k, v);
    } catch (e) {
      /* storage full or forbidden: the widget works without it */
    }
  };

  const host = d.createElement('switchboard-widget');
  const shadow = host.attachShadow({ mode: 'open' });
  const root = d.createElement('div');
  shadow.append(root);

  const css = (text) => {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(text);
      shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
    } catch (e) {
      // Browsers without constructable stylesheets.
      const st = d.createElement('style');
      st.textContent = text;
      shadow.append(st);
    }
  };

  const svg = (path) => {
    const s = d.createElementNS(NS, 'svg');
    const p = d.createElementNS(NS, 'path');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    p.setAttribute('d', path);
    s.append(p);
    return s;
  };

  const ctx = {
    base,
    channel,
    preview,
    root,
    css,
    svg,
    get,
    set,
    token: '',
    session: null,
    error: '',
    user: { name: ds.userName, email: ds.userEmail, hash: ds.userHash },
    app: {},
  };

  ctx.call = (path, body) => {
    const headers = {};
    if (ctx.token) headers.Authorization = 'Bearer ' + ctx.token;
    if (typeof body == 'string') headers['Content-Type'] = 'application/json';
    return fetch(base + '/widget/' + channel + '/' + path, {
      method: body == null ? 'GET' : 'POST',
      headers,
      body,
    });
  };

  const emit = (ctx.emit = (event, data) => {
    for (const fn of listeners[event] || []) {
      try {
        fn(data);
      } catch (e) {
        console.error(e);
      }
    }
  });

  css(
    ':host{all:initial}' +
      '.sb{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937}' +
      '.sb *{box-sizing:border-box}' +
      '.sb-l{position:fixed;z-index:2147483000;bottom:20px;right:20px;width:56px;height:56px;border-radius:50%;border:0;padding:0;cursor:pointer;' +
      'display:flex;align-items:center;justify-content:center;background:var(--sb-vb);color:var(--sb-vt);box-shadow:0 4px 14px rgba(0,0,0,.25)}' +
      '.left .sb-l{right:auto;left:20px}' +
      '.sb-l:focus-visible{outline:3px solid var(--sb-vb);outline-offset:3px}' +
      '.sb-l svg{width:28px;height:28px;fill:currentColor}' +
      '.sb-l svg+svg,.open .sb-l svg{display:none}.open .sb-l svg+svg{display:block}' +
      '.sb-n{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#dc2626;color:#fff;font:600 12px/20px system-ui,sans-serif}' +
      '.sb-n:empty{display:none}'
  );

  const button = d.createElement('button');
  const badge = d.createElement('span');
  button.className = 'sb-l';
  badge.className = 'sb-n';
  button.append(
    svg('M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z'),
    svg((ctx.x = 'M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z')),
    badge
  );
  root.append(button);

  let unread = 0;
  ctx.unread = (n) => {
    badge.textContent = n ? (n > 99 ? '99+' : n) : '';
    button.setAttribute('aria-label', n ? 'Open chat, ' + n + ' unread' : isOpen ? 'Close chat' : 'Open chat');
    if (n !== unread) emit('unread', (unread = n));
  };

  const color = /^#[0-9a-f]{3,8}$/i;
  const apply = (a) => {
    const app = (ctx.app = Object.assign(
      { visitor_background: '#2563eb', visitor_text: '#ffffff', agent_background: '#f1f3f5', agent_text: '#1f2937', position: 'right' },
      ctx.app,
      a
    ));
    root.className = 'sb' + (app.position === 'left' ? ' left' : '') + (isOpen ? ' open' : '');
    for (const [k, prop] of [['visitor_background', 'vb'], ['visitor_text', 'vt'], ['agent_background', 'ab'], ['agent_text', 'at']]) {
      if (color.test(app[k])) root.style.setProperty('--sb-' + prop, app[k]);
    }
  };

  let isOpen = false;
  let drawn = false;
  let chat = null;
  let loading = false;

  const load = () => {
    if (chat || loading) return;
    loading = true;
    const s = d.createElement('script');
    s.src = '__CHAT_URL__';
    s.async = true;
    if (me.nonce) s.nonce = me.nonce; // a host page's CSP may want it
    s.onerror = () => {
      loading = false;
      s.remove();
    };
    d.head.append(s);
  };

  const sync = () => {
    root.classList.toggle('open', isOpen);
    button.setAttribute('aria-expanded', isOpen);
    ctx.unread(unread);
    if (chat) isOpen ? chat.open() : chat.close();
  };

  const draw = () => {
    if (!drawn) (d.body || d.documentElement).append(host);
    drawn = true;
    if (isOpen) load();
    sync();
  };

  const update = () => chat && chat.update();

  const SB = (w.Switchboard = {
    open() {
      isOpen = true;
      if (drawn) {
        load();
        sync();
      }
    },
    close() {
      isOpen = false;
      sync();
    },
    setUser(u) {
      u = u || {};
      ctx.user = { name: u.name, email: u.email, hash: u.hash };
      preview ? update() : start();
    },
    on(event, fn) {
      (listeners[event] = listeners[event] || []).push(fn);
      return SB;
    },
    _boot(factory) {
      if (chat) return;
      chat = factory(ctx);
      loading = false;
      sync();
    },
  });
  ctx.close = SB.close;
  button.onclick = () => (isOpen ? SB.close() : SB.open());

  apply();

  if (preview) {
    // The settings page shows this in an iframe and posts unsaved settings.
    w.addEventListener('message', (e) => {
      const m = e.data;
      if (e.origin === location.origin && m && m.switchboard === 'appearance') {
        apply(m.appearance);
        update();
      }
    });
    isOpen = true;
    draw();
    return;
  }

  // The visitor session. Network failures and busy servers are retried with
  // backoff; a newer start (setUser) makes older answers moot.
  let seq = 0;
  let tries = 0;
  let retry;
  const start = () => {
    const mine = ++seq;
    clearTimeout(retry);
    retry = 0;
    const again = () => {
      if (mine !== seq) return;
      retry = setTimeout(start, Math.min(60e3, 1e3 * 2 ** tries++) * (0.5 + Math.random()));
    };
    ctx
      .call(
        'session',
        JSON.stringify({
          token: get(tokenKey) || undefined,
          name: ctx.user.name,
          email: ctx.user.email,
          hash: ctx.user.hash,
          page_url: location.href,
          page_title: d.title,
          referrer: d.referrer,
        })
      )
      .then((r) =>
        r.json().then(
          (j) => [r, j],
          () => [r, {}]
        )
      )
      .then(([r, j]) => {
        if (mine !== seq) return;
        if (r.status >= 500 || r.status === 429) return again();
        tries = 0;
        const err = j.error || {};
        ctx.error = '';
        if (r.ok) {
          ctx.session = j;
          ctx.token = j.token;
          set(tokenKey, j.token);
          apply(j.appearance);
          const c = j.conversation;
          if (!chat) ctx.unread((c && c.unread) || 0);
          if (c && c.open) load();
        } else if (err.code === 'identity_unverified') {
          ctx.session = null;
          ctx.token = '';
          ctx.error = err.message || 'Your identity could not be verified.';
        } else {
          console.warn('Switchboard: ' + (err.message || 'the chat is unavailable (' + r.status + ')'));
          if (drawn) host.remove();
          drawn = false;
          return;
        }
        lastUrl = location.href;
        draw();
        update();
      }, again);
  };

  // Page views and heartbeats: every 30 s while the page is visible, and when
  // a single-page application changes the URL.
  let lastUrl = location.href;
  const page = () => {
    if (!ctx.token) return;
    lastUrl = location.href;
    ctx.call('page', JSON.stringify({ page_url: lastUrl, page_title: d.title })).catch(() => {});
  };
  const navigated = () =>
    setTimeout(() => {
      if (location.href !== lastUrl) page();
    }, 300); // routers usually set the new title right after the URL
  for (const k of ['pushState', 'replaceState']) {
    const orig = history[k];
    history[k] = function () {
      const r = orig.apply(this, arguments);
      navigated();
      return r;
    };
  }
  w.addEventListener('popstate', navigated);
  w.addEventListener('online', () => retry && start());
  setInterval(() => {
    if (d.visibilityState === 'visible') page();
  }, 30e3);

  start();
})(document, window);
