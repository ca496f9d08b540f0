// Formatting of times, durations and sizes, and a clock for ticking labels.
import { useEffect, useState } from 'preact/hooks';

const MIN = 60 * 1000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

// useNow re-renders every `every` ms (waiting times, "5 min ago").
export function useNow(every = 15000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(t);
  }, [every]);
  return now;
}

// duration: "<1 min", "3 min", "2 h 5 min", "3 d".
export function duration(ms) {
  if (!(ms > 0) || ms < MIN) return '<1 min';
  if (ms < HOUR) return `${Math.floor(ms / MIN)} min`;
  if (ms < DAY) {
    const h = Math.floor(ms / HOUR);
    const m = Math.floor((ms % HOUR) / MIN);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  return `${Math.floor(ms / DAY)} d`;
}

// seconds is a span in seconds with its two largest units: "45 s",
// "1 min 20 s", "2 h 5 min", "3 d 4 h".
export function seconds(n) {
  const s = Math.max(0, Math.round(Number(n) || 0));
  if (s < 60) return `${s} s`;
  const pair = (a, ua, b, ub) => (b ? `${a} ${ua} ${b} ${ub}` : `${a} ${ua}`);
  if (s < 3600) return pair(Math.floor(s / 60), 'min', s % 60, 's');
  if (s < 86400) return pair(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'min');
  return pair(Math.floor(s / 86400), 'd', Math.floor((s % 86400) / 3600), 'h');
}

export function since(iso, now = Date.now()) {
  return duration(now - Date.parse(iso));
}

export function ago(iso, now = Date.now()) {
  const ms = now - Date.parse(iso);
  return ms < MIN ? 'just now' : `${duration(ms)} ago`;
}

export function clock(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function dateTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function day(iso) {
  const d = new Date(iso);
  const today = new Date();
  const yesterday = new Date(today.getTime() - DAY);
  if (d.toDateString() === today.toDateString()) return 'Today';
  if (d.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return d.toLocaleDateString(undefined, { dateStyle: 'long' });
}

export function fileSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// safeURL returns the URL when it is http(s), otherwise '' (never a
// javascript: or data: link from client-supplied profile data).
export function safeURL(u) {
  try {
    const url = new URL(String(u || ''));
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '';
  } catch {
    return '';
  }
}
