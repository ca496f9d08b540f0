// SLA clocks as the lists and the chat header show them. A request's `sla`
// (from the server) gives each target's state; a running clock carries its
// business time left at as_of and the business-hours intervals from as_of
// until it falls due, so the count-down here is exact — it stands still
// outside business hours — without the schedule.
import { html } from './html.js';
import { seconds, useNow } from './format.js';

const LABELS = { first_response: 'First response', next_response: 'Next response', resolution: 'Resolution' };

// consumed is the business time (ms) spent between from and to.
function consumed(open, from, to) {
  let ms = 0;
  for (const [a, b] of open || []) {
    const s = Math.max(Date.parse(a), from);
    const e = Math.min(Date.parse(b), to);
    if (e > s) ms += e - s;
  }
  return ms;
}

const ticking = (open, now) => (open || []).some(([a, b]) => Date.parse(a) <= now && now < Date.parse(b));

// clockNow is a clock at now: {target, label, state: ok|warning|breached|paused|idle|met, left (s), ticking}.
export function clockNow(sla, k, now) {
  const out = { target: k.target, label: LABELS[k.target] || k.target, left: 0, ticking: false, state: k.state, seconds: k.seconds };
  if (k.state === 'paused') return { ...out, left: k.left_seconds };
  if (k.state !== 'running') return out;
  const asOf = Date.parse(sla.as_of);
  const left = Math.max(0, k.left_seconds * 1000 - consumed(k.open, asOf, Math.max(now, asOf))) / 1000;
  if (left <= 0 || (k.due_at && now >= Date.parse(k.due_at))) return { ...out, state: 'breached' };
  const warnAt = k.seconds * (1 - (sla.warning_percent || 80) / 100);
  const on = ticking(k.open, now);
  return { ...out, left, ticking: on, state: left <= warnAt ? 'warning' : on ? 'ok' : 'paused' };
}

// current is the clock a list row shows: a breached one first, then the
// running one with the least time left, then a paused one.
function current(sla, now) {
  if (!sla || !sla.clocks) return null;
  const live = sla.clocks.filter((k) => k.state === 'running' || k.state === 'paused' || (k.state === 'breached' && k.target !== 'resolution'))
    .map((k) => clockNow(sla, k, now));
  const rank = { breached: 0, warning: 1, ok: 2, paused: 3 };
  live.sort((a, b) => (rank[a.state] - rank[b.state]) || (a.left - b.left));
  return live[0] || null;
}

function text(k) {
  if (k.state === 'breached') return 'Breached';
  if (k.state === 'paused') return `${seconds(k.left)} · paused`;
  return `${seconds(k.left)} left`;
}

function hint(k, sla) {
  const why = k.state === 'paused' ? (sla.paused ? 'waiting for the client' : 'outside business hours') : '';
  return `${k.label} (${sla.policy}): ${k.state === 'breached' ? 'breached' : `${seconds(k.left)} left of ${seconds(k.seconds)}`}${why ? `, paused — ${why}` : ''}`;
}

// SlaClock is a list row's clock, ticking every second.
export function SlaClock({ c }) {
  const now = useNow(1000);
  const k = current(c.sla, now);
  if (!k) return html`<span class="conv-meta conv-sla"></span>`;
  return html`<span class="conv-meta conv-sla">
    <span class="sla-clock sla-${k.state}" data-sla-state=${k.state} data-sla-target=${k.target} title=${hint(k, c.sla)}>
      <span class="sla-dot" aria-hidden="true"></span>${text(k)}
    </span>
  </span>`;
}

// SlaTargets is the chat header's line with every target of the policy.
export function SlaTargets({ c }) {
  const now = useNow(1000);
  const sla = c.sla;
  if (!sla || !sla.clocks || !sla.clocks.length) return null;
  return html`<div class="sla-targets" id="chat-sla" title=${`SLA policy: ${sla.policy}`}>
    ${sla.clocks.map((raw) => {
      const k = clockNow(sla, raw, now);
      let value;
      if (k.state === 'met') value = 'met';
      else if (k.state === 'idle') value = raw.target === 'next_response' ? 'nothing to answer' : '—';
      else value = text(k);
      return html`<span key=${k.target} class="sla-target sla-${k.state}" data-sla-target=${k.target} data-sla-state=${k.state}
        title=${k.state === 'idle' || k.state === 'met' ? `${k.label}: target ${seconds(k.seconds)}` : hint(k, sla)}>
        <span class="sla-dot" aria-hidden="true"></span><span class="sla-label">${k.label}</span> ${value}
      </span>`;
    })}
  </div>`;
}
