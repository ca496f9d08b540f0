// Workspace sections. Chats, management and settings are filled by later
// work; until then they say honestly that there is nothing yet.
import { html } from './html.js';
import { EmptyState } from './ui.js';
import { CHANNELS } from './nav.js';

function Page({ title, children, id }) {
  return html`<section class="page" id=${id}>
    <div class="page-head"><h1>${title}</h1></div>
    ${children}
  </section>`;
}

const TEXTS = {
  management: ['Management', 'Active chats, agents and visitors will appear here.'],
  unassigned: ['Unassigned', 'No unassigned requests. Requests from connected channels will appear here.'],
  all: ['All chats', 'No chats yet. Conversations from all connected channels will appear here.'],
  settings: ['Settings', 'Scripts, templates, channels and widget settings will be configured here.'],
};

export function PlaceholderSection({ section }) {
  const channel = CHANNELS.find((c) => c.key === section);
  if (channel) {
    return html`<${Page} title=${channel.label} id="section-${section}">
      <${EmptyState}>No requests from ${channel.label} yet.<//>
    <//>`;
  }
  const [title, text] = TEXTS[section];
  return html`<${Page} title=${title} id="section-${section}">
    <${EmptyState}>${text}<//>
  <//>`;
}

export function hasPlaceholder(section) {
  return !!TEXTS[section] || CHANNELS.some((c) => c.key === section);
}

export function ForbiddenSection() {
  return html`<${Page} title="No access" id="section-forbidden">
    <${EmptyState} id="forbidden">You don't have access to this section.<//>
  <//>`;
}

export function NotFoundSection() {
  return html`<${Page} title="Page not found" id="section-not-found">
    <${EmptyState}>There is no such page. Pick a section in the sidebar.<//>
  <//>`;
}

export function NoAccess() {
  return html`<${Page} title="Welcome to Switchboard" id="section-no-access">
    <div class="empty-state">
      <p id="no-access">You have no access to the Omnichannel module yet. Ask an administrator to add you to a group with the Omnichannel right.</p>
    </div>
  <//>`;
}
