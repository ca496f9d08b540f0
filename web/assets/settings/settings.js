// Settings (right omnichannel.settings): channels, templates, scripts and the
// website widget; the omnichannel options come in a later version.
import { html } from '../html.js';
import { TabbedSection } from '../tabs.js';
import { EmptyState } from '../ui.js';
import { ChannelsPage } from './channels.js';
import { TemplatesPage } from './templates.js';
import { ScriptsPage } from './scripts.js';
import { WidgetPage } from './widget.js';

const Later = () => html`<${EmptyState} id="settings-later">Configured in a later version.<//>`;

const TABS = [
  { key: 'channels', label: 'Channels', Page: ChannelsPage },
  { key: 'templates', label: 'Templates', Page: TemplatesPage },
  { key: 'scripts', label: 'Scripts', Page: ScriptsPage },
  { key: 'widget', label: 'Widget and chat', Page: WidgetPage },
  { key: 'omnichannel', label: 'Omnichannel settings', Page: Later },
];

export function SettingsSection({ me, sub }) {
  return html`<${TabbedSection} name="settings" title="Settings" tabs=${TABS} sub=${sub} pageProps=${{ me }} />`;
}
