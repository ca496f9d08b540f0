// Administration: agents, groups, departments, request statuses and custom
// client fields (admins only).
import { useEffect } from 'preact/hooks';
import { html } from '../html.js';
import { redirect } from '../nav.js';
import { EmptyState } from '../ui.js';
import { AgentsPage } from './agents.js';
import { GroupsPage } from './groups.js';
import { DepartmentsPage } from './departments.js';
import { StatusesPage } from './statuses.js';
import { FieldsPage } from './fields.js';

const TABS = [
  { key: 'agents', label: 'Agents', Page: AgentsPage },
  { key: 'groups', label: 'Groups', Page: GroupsPage },
  { key: 'departments', label: 'Departments', Page: DepartmentsPage },
  { key: 'statuses', label: 'Statuses', Page: StatusesPage },
  { key: 'fields', label: 'Custom fields', Page: FieldsPage },
];

export function AdminSection({ me, sub, refreshMe }) {
  useEffect(() => {
    if (!sub) redirect('admin/agents');
  }, [sub]);

  const tab = TABS.find((t) => t.key === sub);
  return html`<section class="page" id="section-admin">
    <div class="page-head"><h1>Administration</h1></div>
    <nav class="tabs" id="admin-tabs" aria-label="Administration">
      ${TABS.map((t) => html`<a
        data-admin-tab=${t.key}
        href="#/admin/${t.key}"
        class=${`tab${t.key === sub ? ' active' : ''}`}
        aria-current=${t.key === sub ? 'page' : undefined}>${t.label}</a>`)}
    </nav>
    ${tab ? html`<${tab.Page} key=${tab.key} me=${me} refreshMe=${refreshMe} />`
      : sub ? html`<${EmptyState}>There is no such page. Pick a tab above.<//>` : null}
  </section>`;
}
