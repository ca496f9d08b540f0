// Settings (right omnichannel.settings): channels, templates, scripts, the
// website widget, the omnichannel options with the dispatcher, and the
// business hours and SLA policies that time the answers.
import { html } from '../html.js';
import { TabbedSection } from '../tabs.js';
import { ChannelsPage } from './channels.js';
import { TemplatesPage } from './templates.js';
import { ScriptsPage } from './scripts.js';
import { WidgetPage } from './widget.js';
import { OmnichannelPage } from './omnichannel.js';
import { BusinessHoursPage } from './businesshours.js';
import { SLAPage } from './sla.js';

const TABS = [
  { key: 'channels', label: 'Channels', Page: ChannelsPage },
  { key: 'templates', label: 'Templates', Page: TemplatesPage },
  { key: 'scripts', label: 'Scripts', Page: ScriptsPage },
  { key: 'widget', label: 'Widget and chat', Page: WidgetPage },
  { key: 'omnichannel', label: 'Omnichannel settings', Page: OmnichannelPage },
  { key: 'hours', label: 'Business hours', Page: BusinessHoursPage },
  { key: 'sla', label: 'SLA', Page: SLAPage },
];

export function SettingsSection({ me, sub }) {
  return html`<${TabbedSection} name="settings" title="Settings" tabs=${TABS} sub=${sub} pageProps=${{ me }} />`;
}
