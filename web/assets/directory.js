// Lookups shared by the whole workspace and loaded once per session: agents
// (for names), request statuses and custom fields. Pages that change them
// call reload(); logging out calls resetDirectory().
import { useEffect, useState } from 'preact/hooks';
import * as api from './api.js';

function resource(loader) {
  let value = null;
  let error = null;
  let pending = null;
  const subs = new Set();
  const emit = () => subs.forEach((fn) => fn());
  const res = {
    get: () => value,
    error: () => error,
    load(force = false) {
      if (pending) return pending;
      if (value && !force) return Promise.resolve(value);
      pending = loader().then((v) => {
        value = v;
        error = null;
        return v;
      }, (err) => {
        error = err;
        return value;
      }).finally(() => {
        pending = null;
        emit();
      });
      return pending;
    },
    reload: () => res.load(true),
    set(v) {
      value = v;
      emit();
    },
    reset() {
      value = null;
      error = null;
      emit();
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
  return res;
}

export const agents = resource(api.listAgents);
export const statuses = resource(api.listStatuses);
export const customFields = resource(api.listCustomFields);
// The away reasons of the operator status (the header switch; Administration changes them).
export const awayReasons = resource(api.listAwayReasons);

// useResource returns the current value (null until loaded) and loads it on first use.
export function useResource(res) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const unsub = res.subscribe(() => setTick((n) => n + 1));
    res.load();
    return unsub;
  }, [res]);
  return res.get();
}

// agentName gives a display name for an agent id, loading the list again
// (once per id) when an agent is not known yet (created after the load).
const missing = new Set();
export function agentName(list, agentId) {
  if (!agentId) return '';
  const a = (list || []).find((x) => x.id === agentId);
  if (a) return a.name;
  if (list && !missing.has(agentId)) {
    missing.add(agentId);
    agents.reload();
  }
  return `Agent #${agentId}`;
}

export function statusOf(list, statusId) {
  return (list || []).find((s) => s.id === statusId) || null;
}

// Templates allowed on a channel kind, fetched on the first "/" in a
// composer of that channel and kept for the session.
const templateCache = new Map(); // kind → Promise<Template[]>
export function templatesFor(kind) {
  if (!templateCache.has(kind)) {
    const p = api.listTemplates(kind);
    p.catch(() => templateCache.delete(kind));
    templateCache.set(kind, p);
  }
  return templateCache.get(kind);
}
export function resetTemplates() {
  templateCache.clear();
}

export function resetDirectory() {
  missing.clear();
  templateCache.clear();
  agents.reset();
  statuses.reset();
  customFields.reset();
  awayReasons.reset();
}
