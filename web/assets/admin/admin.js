// Administration: agents, groups, departments, request statuses, custom
// client fields and away reasons (admins only).
import { html } from '../html.js';
import { TabbedSection } from '../tabs.js';
import { AgentsPage } from './agents.js';
import { GroupsPage } from './groups.js';
import { DepartmentsPage } from './departments.js';
import { StatusesPage } from './statuses.js';
import { FieldsPage } from './fields.js';
import { AwayReasonsPage } from './awayreasons.js';

const TABS = [
  { key: 'agents', label: 'Agents', Page: AgentsPage },
  { key: 'groups', label: 'Groups', Page: GroupsPage },
  { key: 'departments', label: 'Departments', Page: DepartmentsPage },
  { key: 'statuses', label: 'Statuses', Page: StatusesPage },
  { key: 'fields', label: 'Custom fields', Page: FieldsPage },
  { key: 'away-reasons', label: 'Away reasons', Page: AwayReasonsPage },
];

export function AdminSection({ me, sub, refreshMe }) {
  return html`<${TabbedSection} name="admin" title="Administration" tabs=${TABS} sub=${sub} pageProps=${{ me, refreshMe }} />`;
}
