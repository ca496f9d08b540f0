// useLiveRefresh keeps a Management page current: it runs refresh on
// mount, shortly after the live events that match (several in a burst make
// one call), every `every` ms while the tab is visible, and when the tab
// comes back. Calls never overlap: one asked for meanwhile runs after.
import { useEffect, useRef } from 'preact/hooks';
import { onLiveEvent } from '../live.js';

export function useLiveRefresh(refresh, { match, every = 10000, wait = 500 } = {}) {
  const latest = useRef(refresh);
  latest.current = refresh;
  const matcher = useRef(match);
  matcher.current = match;

  useEffect(() => {
    let alive = true;
    let running = false;
    let again = false;
    let debounce = 0;

    async function run() {
      if (!alive) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        await latest.current();
      } catch {
        // The page shows its own errors.
      }
      running = false;
      if (again && alive) {
        again = false;
        run();
      }
    }

    const off = onLiveEvent((ev) => {
      if (!ev || !ev.kind || ev.kind === 'typing' || !matcher.current || !matcher.current(ev)) return;
      clearTimeout(debounce);
      debounce = setTimeout(run, wait);
    });
    const tick = setInterval(() => { if (!document.hidden) run(); }, every);
    const onVisible = () => { if (!document.hidden) run(); };
    document.addEventListener('visibilitychange', onVisible);
    run();
    return () => {
      alive = false;
      off();
      clearTimeout(debounce);
      clearInterval(tick);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [every, wait]);
}

// Event kinds that change what Management shows.
export const isConversationEvent = (ev) => ev.kind.startsWith('conversation.') || ev.kind === 'message.created';
