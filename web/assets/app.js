// Switchboard workspace entry point: session bootstrap, login, shell.
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import * as api from './api.js';
import { LoginScreen } from './login.js';
import { Shell } from './shell.js';
import { clearRoute } from './nav.js';

function App() {
  // phase: loading | login | ready | error
  const [phase, setPhase] = useState('loading');
  const [me, setMe] = useState(null);
  const [notice, setNotice] = useState('');
  const [loadError, setLoadError] = useState(null);
  const meRef = useRef(null);
  meRef.current = me;

  const load = useCallback(async () => {
    setPhase('loading');
    try {
      setMe(await api.getMe());
      setPhase('ready');
    } catch (err) {
      if (err.status === 401) {
        setMe(null);
        setPhase('login');
      } else {
        setLoadError(err);
        setPhase('error');
      }
    }
  }, []);

  // refreshMe re-reads rights and profile quietly (after admin changes to oneself).
  const refreshMe = useCallback(async () => {
    try {
      setMe(await api.getMe());
    } catch {
      // A 401 is handled globally; other failures keep the current view.
    }
  }, []);

  useEffect(() => {
    api.onUnauthorized(() => {
      if (meRef.current) setNotice('Your session has ended. Please sign in again.');
      setMe(null);
      setPhase('login');
    });
    load();
  }, [load]);

  async function logout() {
    try {
      await api.logout();
    } catch {
      // Even if the server call failed, leave the workspace in this tab.
    }
    clearRoute();
    setNotice('');
    setMe(null);
    setPhase('login');
  }

  function loggedIn(newMe) {
    setNotice('');
    setMe(newMe);
    setPhase('ready');
  }

  if (phase === 'loading') {
    return html`<div class="boot" role="status">Loading…</div>`;
  }
  if (phase === 'error') {
    return html`<div class="boot">
      <p class="status status-error" role="alert">${loadError ? loadError.message : 'Could not load the workspace.'}</p>
      <button type="button" class="btn" onClick=${load}>Try again</button>
    </div>`;
  }
  if (phase === 'login' || !me) {
    return html`<${LoginScreen} onLoggedIn=${loggedIn} notice=${notice} />`;
  }
  return html`<${Shell} me=${me} setMe=${setMe} refreshMe=${refreshMe} onLogout=${logout} />`;
}

render(html`<${App} />`, document.getElementById('app'));
