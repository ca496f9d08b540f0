// Management (right omnichannel.management): what happens on the sites and
// in the team right now: the open chats, the agents at work, the visitors;
// and the statistics over a period.
import { html } from '../html.js';
import { TabbedSection } from '../tabs.js';
import { ActiveChatsPage } from './chats.js';
import { AgentsAtWorkPage } from './agents.js';
import { VisitorsPage } from './visitors.js';
import { StatisticsPage } from './statistics.js';

const TABS = [
  { key: 'chats', label: 'Active chats', Page: ActiveChatsPage },
  { key: 'agents', label: 'Agents', Page: AgentsAtWorkPage },
  { key: 'visitors', label: 'Visitors', Page: VisitorsPage },
  { key: 'statistics', label: 'Statistics', Page: StatisticsPage },
];

export function ManagementSection({ me, sub }) {
  return html`<${TabbedSection} name="management" title="Management" tabs=${TABS} sub=${sub} pageProps=${{ me }} />`;
}
