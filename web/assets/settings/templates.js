// Settings › Templates: saved replies agents call with "/tag" in the composer.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import * as api from '../api.js';
import { resetTemplates } from '../directory.js';
import { KIND_LABELS } from '../nav.js';
import { ListBody, RowActions, useList } from '../listing.js';
import { Status, inv, useAction } from '../ui.js';

const KINDS = ['widget', 'messenger', 'vk', 'viber', 'ok', 'telegram', 'instagram', 'whatsapp', 'api'];

function TemplateForm({ template, action, onSaved, onCancel }) {
  const [tag, setTag] = useState(template ? template.tag : '');
  const [channels, setChannels] = useState(template ? template.channels || [] : []);
  const [content, setContent] = useState(template ? template.content : '');

  useEffect(() => {
    if (template) document.getElementById('template-tag')?.focus();
  }, []);

  function toggle(kind, on) {
    setChannels((list) => (on ? [...list.filter((k) => k !== kind), kind] : list.filter((k) => k !== kind)));
  }

  async function submit(e) {
    e.preventDefault();
    if (action.busy) return;
    const body = { tag: tag.trim().replace(/^\//, ''), content: content.trim(), channels: KINDS.filter((k) => channels.includes(k)) };
    if (!body.tag) return action.fail('Enter a tag.', 'tag');
    if (!body.content) return action.fail('Enter the text of the template.', 'content');
    const res = await action.run(
      () => (template ? api.updateTemplate(template.id, body) : api.createTemplate(body)),
      { done: template ? 'Template saved.' : 'Template created.' },
    );
    if (res.ok) onSaved(res.value, !template);
  }

  return html`<form class="card form-card" id="template-form" onSubmit=${submit} noValidate>
    <h2>${template ? html`Edit template /${template.tag}` : 'New template'}</h2>
    <label class="field field-narrow">
      <span>Tag</span>
      <div class="input-prefix"><span aria-hidden="true">/</span>
        <input id="template-tag" type="text" autocomplete="off" value=${tag} placeholder="greeting"
          onInput=${(e) => setTag(e.currentTarget.value)} aria-invalid=${inv(action, 'tag')} />
      </div>
      <small class="hint">Agents type /${tag.trim().replace(/^\//, '') || 'tag'} in a chat to insert it. Letters, digits, - and _.</small>
    </label>
    <fieldset class="checks" aria-invalid=${inv(action, 'channels')}>
      <legend>Channels</legend>
      <p class="hint">None ticked: the template works on every channel.</p>
      <div class="check-grid">
        ${KINDS.map((k) => html`<label class="check" key=${k}>
          <input type="checkbox" name="template-channel" value=${k} checked=${channels.includes(k)}
            onChange=${(e) => toggle(k, e.currentTarget.checked)} />
          <span>${KIND_LABELS[k]}</span>
        </label>`)}
      </div>
    </fieldset>
    <label class="field">
      <span>Text</span>
      <textarea id="template-content" rows="5" value=${content}
        onInput=${(e) => setContent(e.currentTarget.value)} aria-invalid=${inv(action, 'content')}></textarea>
    </label>
    <div class="form-actions">
      <button id="template-save" type="submit" class="btn btn-primary" disabled=${action.busy}>
        ${action.busy ? 'Saving…' : template ? 'Save template' : 'Create template'}
      </button>
      ${template ? html`<button id="template-cancel" type="button" class="btn btn-ghost" onClick=${onCancel}>Cancel</button>` : null}
      <${Status} action=${action} id="template-status" />
    </div>
  </form>`;
}

export function TemplatesPage() {
  const templates = useList(() => api.listTemplates());
  const [editing, setEditing] = useState(null);
  const [confirmId, setConfirmId] = useState(null);
  const [formSeq, setFormSeq] = useState(0);
  const formAction = useAction();
  const listAction = useAction();

  function saved(t, isNew) {
    templates.setItems((list) => (isNew ? [...(list || []), t] : (list || []).map((x) => (x.id === t.id ? t : x))));
    setEditing(null);
    setFormSeq((n) => n + 1);
    resetTemplates();
  }

  async function remove(t) {
    const res = await listAction.run(() => api.deleteTemplate(t.id), { pending: 'Deleting…', done: `Template /${t.tag} deleted.` });
    setConfirmId(null);
    if (!res.ok) return;
    templates.setItems((list) => list.filter((x) => x.id !== t.id));
    if (editing && editing.id === t.id) setEditing(null);
    resetTemplates();
  }

  return html`<div class="admin-page" id="settings-templates">
    <${ListBody} list=${templates} loading="Loading templates…" emptyId="templates-empty"
      empty="No templates yet. Create one below; agents insert it by typing /tag in a chat.">
      ${(items) => html`<table class="table" id="templates-table">
        <thead><tr><th>Tag</th><th>Channels</th><th>Text</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${items.map((t) => html`<tr key=${t.id} data-template-tag=${t.tag} class=${editing && editing.id === t.id ? 'row-editing' : ''}>
            <td class="cell-name"><code>/${t.tag}</code></td>
            <td>${(t.channels || []).length
              ? t.channels.map((k) => html`<span class="badge" key=${k}>${KIND_LABELS[k] || k}</span>`)
              : html`<span class="muted">All channels</span>`}</td>
            <td class="cell-text">${t.content}</td>
            <${RowActions} question=${`Delete /${t.tag}?`} busy=${listAction.busy} confirming=${confirmId === t.id}
              onAskDelete=${() => { listAction.reset(); setConfirmId(t.id); }}
              onCancelDelete=${() => setConfirmId(null)}
              onDelete=${() => remove(t)}>
              <button type="button" class="btn btn-small" data-action="edit" disabled=${listAction.busy}
                onClick=${() => { formAction.reset(); setConfirmId(null); setEditing(t); }}>Edit</button>
            <//>
          </tr>`)}
        </tbody>
      </table>`}
    <//>
    <${Status} action=${listAction} id="templates-list-status" />
    ${templates.items ? html`<${TemplateForm} key=${editing ? `edit-${editing.id}` : `new-${formSeq}`} template=${editing}
      action=${formAction} onSaved=${saved} onCancel=${() => { formAction.reset(); setEditing(null); }} />` : null}
  </div>`;
}
