// Settings (right omnichannel.settings): channels and templates; the rest
// comes in a later version.
import { useEffect } from 'preact/hooks';
import { html } from '../html.js';
import { redirect } from '../nav.js';
import { EmptyState } from '../ui.js';
import { ChannelsPage } from './channels.js';
import { TemplatesPage } from './templates.js';

const Later = () => html`<${EmptyState} id="settings-later">Configured in a later version.<//>`;

const TABS = [
  { key: 'channels', label: 'Channels', Page: ChannelsPage },
  { key: 'templates', label: 'Templates', Page: TemplatesPage },
  { key: 'scripts', label: 'Scripts', Page: Later },
  { key: 'widget', label: 'Widget', Page: Later },
  { key: 'omnichannel', label: 'Omnichannel settings', Page: Later },
];

export function SettingsSection({ me, sub }) {
  useEffect(() => {
    if (!sub) redirect('settings/channels');
  }, [sub]);

  const tab = TABS.find((t) => t.key === sub);
  return html`<section class="page" id="section-settings">
    <div class="page-head"><h1>Settings</h1></div>
    <nav class="tabs" id="settings-tabs" aria-label="Settings">
      ${TABS.map((t) => html`<a
        data-settings-tab=${t.key}
        href="#/settings/${t.key}"
        class=${`tab${t.key === sub ? ' active' : ''}`}
        aria-current=${t.key === sub ? 'page' : undefined}>${t.label}</a>`)}
    </nav>
    ${tab ? html`<${tab.Page} key=${tab.key} me=${me} />`
      : sub ? html`<${EmptyState}>There is no such page. Pick a tab above.<//>` : null}
  </section>`;
}
