// Shared pieces of the administration and settings list pages: loading a
// list, showing it (or its error, loading or empty state) and the row actions
// with an inline delete confirmation.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { EmptyState } from './ui.js';

// useList loads a list once on mount. loader returns the items (it may set
// side data of the page itself); reload runs it again after an error.
// items is null until the first load succeeds.
export function useList(loader) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const latest = useRef(loader);
  latest.current = loader;

  const reload = useCallback(async () => {
    setError(null);
    try {
      setItems(await latest.current());
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => { reload(); }, [reload]);

  return { items, setItems, error, reload };
}

// ListBody shows the load error (with "Try again"), the loading line, the
// empty state, or the table that children(items) renders.
export function ListBody({ list, loading, empty, emptyId, children }) {
  if (list.error) {
    return html`<div class="card">
      <p class="status status-error" role="alert">${list.error.message}</p>
      <button type="button" class="btn btn-small" onClick=${list.reload}>Try again</button>
    </div>`;
  }
  if (!list.items) return html`<p class="muted" role="status">${loading}</p>`;
  if (!list.items.length) return html`<${EmptyState} id=${emptyId}>${empty}<//>`;
  return html`<div class="table-wrap">${children(list.items)}</div>`;
}

// RowActions is the actions cell of a table row: the row's own buttons
// (children) followed by a delete button, which asks `question` inline
// before onDelete runs. deleteClass adds classes to the delete button.
export function RowActions({ confirming, question, label = 'Delete', busy, onAskDelete, onCancelDelete, onDelete, deleteClass = '', children }) {
  return html`<td class="cell-actions"><div class="row-actions">
    ${confirming ? html`<span class="confirm">
        <span>${question}</span>
        <button type="button" class="btn btn-small btn-danger" data-action="confirm-delete" disabled=${busy} onClick=${onDelete}>${label}</button>
        <button type="button" class="btn btn-small btn-ghost" data-action="cancel-delete" onClick=${onCancelDelete}>Cancel</button>
      </span>`
      : html`${children}<button type="button" class="btn btn-small btn-danger-outline ${deleteClass}" data-action="delete" disabled=${busy}
          onClick=${onAskDelete}>${label}</button>`}
  </div></td>`;
}
