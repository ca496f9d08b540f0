// Login screen, shown while GET /api/v1/me answers 401.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import * as api from './api.js';

function loginMessage(err) {
  if (err.status === 401 || err.code === 'invalid_credentials') return 'Wrong email or password.';
  if (err.status === 429 || err.code === 'rate_limited') return 'Too many attempts, try again in a minute.';
  return err.message;
}

export function LoginScreen({ onLoggedIn, notice }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  async function submit(e) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError('');
    try {
      const me = await api.login(email.trim(), password);
      setPassword('');
      onLoggedIn(me);
    } catch (err) {
      setError(loginMessage(err));
      setBusy(false);
    }
  }

  return html`<main class="login">
    <form class="card login-card" onSubmit=${submit} noValidate>
      <div class="brand brand-large"><span class="brand-mark" aria-hidden="true"></span>Switchboard</div>
      <p class="muted">Sign in to your workspace.</p>
      ${notice ? html`<p class="status status-pending">${notice}</p>` : null}
      <label class="field">
        <span>Email</span>
        <input id="login-email" type="email" name="email" autocomplete="username" autofocus
          value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} aria-invalid=${error ? 'true' : undefined} />
      </label>
      <label class="field">
        <span>Password</span>
        <input id="login-password" type="password" name="password" autocomplete="current-password"
          value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} aria-invalid=${error ? 'true' : undefined} />
      </label>
      <p id="login-error" class="status status-error" role="alert">${error}</p>
      <button id="login-submit" type="submit" class="btn btn-primary btn-block" disabled=${busy}>
        ${busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  </main>`;
}
