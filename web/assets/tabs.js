// TabbedSection is a workspace section made of tabs (#/NAME/TAB): Settings,
// Administration, Management. Without a tab it goes to the first one.
import { useEffect } from 'preact/hooks';
import { html } from './html.js';
import { redirect } from './nav.js';
import { EmptyState } from './ui.js';

// tabs: [{key, label, Page}]; pageProps are passed to the tab's Page.
export function TabbedSection({ name, title, label, tabs, sub, pageProps = {} }) {
  useEffect(() => {
    if (!sub && tabs.length) redirect(`${name}/${tabs[0].key}`, { section: name, sub: '' });
  }, [sub]);

  const tab = tabs.find((t) => t.key === sub);
  return html`<section class="page" id=${`section-${name}`}>
    <div class="page-head"><h1>${title}</h1></div>
    <nav class="tabs" id=${`${name}-tabs`} aria-label=${label || title}>
      ${tabs.map((t) => html`<a
        ...${{ [`data-${name}-tab`]: t.key }}
        href=${`#/${name}/${t.key}`}
        class=${`tab${t.key === sub ? ' active' : ''}`}
        aria-current=${t.key === sub ? 'page' : undefined}>${t.label}</a>`)}
    </nav>
    ${tab ? html`<${tab.Page} key=${tab.key} ...${pageProps} />`
      : sub ? html`<${EmptyState}>There is no such page. Pick a tab above.<//>` : null}
  </section>`;
}
