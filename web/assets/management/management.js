// Management (right omnichannel.management): what happens on the sites and
// in the team right now.
import { html } from '../html.js';
import { TabbedSection } from '../tabs.js';
import { VisitorsPage } from './visitors.js';

const TABS = [
  { key: 'visitors', label: 'Visitors', Page: VisitorsPage },
];

export function ManagementSection({ me, sub }) {
  return html`<${TabbedSection} name="management" title="Management" tabs=${TABS} sub=${sub} pageProps=${{ me }} />`;
}
