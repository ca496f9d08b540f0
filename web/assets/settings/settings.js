// Settings (right omnichannel.settings): channels, templates, scripts, the
// website widget and the omnichannel options with the dispatcher.
import { html } from '../html.js';
import { TabbedSection } from '../tabs.js';
import { ChannelsPage } from './channels.js';
import { TemplatesPage } from './templates.js';
import { ScriptsPage } from './scripts.js';
import { WidgetPage } from './widget.js';
import { OmnichannelPage } from './omnichannel.js';

const TABS = [
  { key: 'channels', label: 'Channels', Page: ChannelsPage },
  { key: 'templates', label: 'Templates', Page: TemplatesPage },
  { key: 'scripts', label: 'Scripts', Page: ScriptsPage },
  { key: 'widget', label: 'Widget and chat', Page: WidgetPage },
  { key: 'omnichannel', label: 'Omnichannel settings', Page: OmnichannelPage },
];

export function SettingsSection({ me, sub }) {
  return html`<${TabbedSection} name="settings" title="Settings" tabs=${TABS} sub=${sub} pageProps=${{ me }} />`;
}
