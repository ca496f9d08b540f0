// The pages for no access, unknown addresses and forbidden sections.
import { html } from './html.js';
import { EmptyState } from './ui.js';

function Page({ title, children, id }) {
  return html`<section class="page" id=${id}>
    <div class="page-head"><h1>${title}</h1></div>
    ${children}
  </section>`;
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
