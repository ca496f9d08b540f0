// Thin client for the Switchboard JSON API (same origin, cookie session).

const BASE = '/api/v1';

// ApiError carries the server's {"error":{code,message,field}} payload;
// detail is the whole error object (some answers add to it, such as
// offline_restricted's requests).
export class ApiError extends Error {
  constructor(status, code, message, field, detail) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.detail = detail || {};
  }
}

let unauthorizedHandler = null;

// onUnauthorized registers the callback run when a call answers 401
// (the session is gone); the login call opts out.
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

function fallbackMessage(status) {
  switch (status) {
    case 400: return 'The request was not accepted.';
    case 401: return 'Please sign in again.';
    case 403: return 'You are not allowed to do this.';
    case 404: return 'Not found. It may have been removed.';
    case 409: return 'This conflicts with existing data.';
    case 413: return 'The file is too large.';
    case 415: return 'This file type is not supported.';
    case 422: return 'Please check the highlighted field.';
    case 429: return 'Too many requests, try again in a minute.';
    default: return `The server answered with an error (${status}). Please try again.`;
  }
}

// request performs one API call. opts.json is sent as a JSON body,
// opts.file as a raw body with the file's own content type, opts.form
// (FormData) as multipart/form-data.
// opts.keep401(err) returning true stops the global 401 handling.
export async function request(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (opts.form) {
    body = opts.form; // the browser sets the multipart boundary
  } else if (opts.file) {
    body = opts.file;
    headers['Content-Type'] = opts.file.type || 'application/octet-stream';
  } else {
    headers['Content-Type'] = 'application/json';
    if (opts.json !== undefined) body = JSON.stringify(opts.json);
  }

  let res;
  try {
    res = await fetch(BASE + path, { method, headers, body, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network_error', 'Could not reach the server. Check your connection and try again.');
  }

  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
  }

  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || `http_${res.status}`, e.message || fallbackMessage(res.status), e.field, e);
    if (res.status === 401 && unauthorizedHandler && !(opts.keep401 && opts.keep401(err))) {
      unauthorizedHandler(err);
    }
    throw err;
  }
  return data;
}

const id = (v) => encodeURIComponent(String(v));

// Auth and the current agent.
export const login = (email, password) =>
  request('POST', '/auth/login', { json: { email, password }, keep401: () => true });
export const logout = () => request('POST', '/auth/logout');
export const getMe = () => request('GET', '/me');
// setPresence sets the operator status; reasonId (Away only) names an away reason.
export const setPresence = (presence, reasonId) =>
  request('PUT', '/me/presence', { json: reasonId ? { presence, reason_id: reasonId } : { presence } });
export const changePassword = (current_password, new_password) =>
  request('PUT', '/me/password', {
    json: { current_password, new_password },
    // A wrong current password must not end the session in the UI.
    keep401: (err) => err.field === 'current_password' || err.code === 'invalid_credentials' || err.code === 'wrong_password',
  });

// Agents.
export const listAgents = async () => (await request('GET', '/agents')).agents || [];
export const createAgent = (body) => request('POST', '/agents', { json: body });
export const updateAgent = (agentId, patch) => request('PATCH', `/agents/${id(agentId)}`, { json: patch });
export const resetAgentPassword = (agentId, password) =>
  request('POST', `/agents/${id(agentId)}/password`, { json: password ? { password } : {} });
export const uploadAgentAvatar = (agentId, file) => request('PUT', `/agents/${id(agentId)}/avatar`, { file });
export const deleteAgentAvatar = (agentId) => request('DELETE', `/agents/${id(agentId)}/avatar`);

// Groups.
export const listGroups = async () => (await request('GET', '/groups')).groups || [];
export const createGroup = (body) => request('POST', '/groups', { json: body });
export const updateGroup = (groupId, patch) => request('PATCH', `/groups/${id(groupId)}`, { json: patch });
export const deleteGroup = (groupId) => request('DELETE', `/groups/${id(groupId)}`);

// Departments.
export const listDepartments = async () => (await request('GET', '/departments')).departments || [];
export const createDepartment = (body) => request('POST', '/departments', { json: body });
export const updateDepartment = (depId, patch) => request('PATCH', `/departments/${id(depId)}`, { json: patch });
export const deleteDepartment = (depId) => request('DELETE', `/departments/${id(depId)}`);
export const uploadDepartmentAvatar = (depId, file) => request('PUT', `/departments/${id(depId)}/avatar`, { file });
export const deleteDepartmentAvatar = (depId) => request('DELETE', `/departments/${id(depId)}/avatar`);

// Avatar upload limits, mirrored from the server so users get a quick answer.
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
export const AVATAR_MAX_BYTES = 1 << 20;

// checkAvatarFile returns an error message, or '' when the file looks acceptable.
export function checkAvatarFile(file) {
  if (!AVATAR_TYPES.includes(file.type)) return 'Choose a PNG, JPEG, GIF or WebP image.';
  if (file.size > AVATAR_MAX_BYTES) return 'The image is larger than 1 MiB.';
  if (file.size === 0) return 'The file is empty.';
  return '';
}

// query builds "?a=1&b=2" from the set values of params ('' when none).
function query(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Requests (conversations).
export const listConversations = (params) => request('GET', `/conversations${query(params)}`);
export const getConversation = (cid) => request('GET', `/conversations/${id(cid)}`);
export const takeConversation = (cid) => request('POST', `/conversations/${id(cid)}/take`);
export const listMessages = async (cid, before) =>
  (await request('GET', `/conversations/${id(cid)}/messages${query({ before })}`)).messages || [];
// postMessage sends JSON, or multipart when files are attached.
export function postMessage(cid, kind, body, files = []) {
  if (!files.length) return request('POST', `/conversations/${id(cid)}/messages`, { json: { kind, body } });
  const form = new FormData();
  form.set('kind', kind);
  form.set('body', body);
  for (const f of files) form.append('files', f, f.name);
  return request('POST', `/conversations/${id(cid)}/messages`, { form });
}
export const transferConversation = (cid, agentId, note) =>
  request('POST', `/conversations/${id(cid)}/transfer`, { json: { agent_id: agentId, note } });
export const closeConversation = (cid) => request('POST', `/conversations/${id(cid)}/close`);
export const classicConversation = (cid) => request('POST', `/conversations/${id(cid)}/classic`);
export const setConversationStatus = (cid, statusId) =>
  request('PUT', `/conversations/${id(cid)}/status`, { json: { status_id: statusId } });
export const markRead = (cid) => request('POST', `/conversations/${id(cid)}/read`);
export const getClient = (cid) => request('GET', `/conversations/${id(cid)}/client`);
export const updateClient = (cid, patch) => request('PATCH', `/conversations/${id(cid)}/client`, { json: patch });
export const previousRequests = async (cid) =>
  (await request('GET', `/conversations/${id(cid)}/previous`)).conversations || [];
// retryMessage queues a reply that a messenger did not accept again; it
// answers the message, its delivery back at "queued".
export const retryMessage = (messageId) => request('POST', `/messages/${id(messageId)}/retry`);
export const attachmentURL = (messageId, index) => `${BASE}/messages/${id(messageId)}/attachments/${id(index)}`;

// Attachment limits, mirrored from the server.
export const MAX_FILES = 5;
export const MAX_FILE_BYTES = 10 << 20;

// Request statuses.
export const listStatuses = async () => (await request('GET', '/statuses')).statuses || [];
export const createStatus = (body) => request('POST', '/statuses', { json: body });
export const updateStatus = (statusId, patch) => request('PATCH', `/statuses/${id(statusId)}`, { json: patch });
export const deleteStatus = (statusId) => request('DELETE', `/statuses/${id(statusId)}`);

// Templates (saved replies).
export const listTemplates = async (channel) => (await request('GET', `/templates${query({ channel })}`)).templates || [];
export const createTemplate = (body) => request('POST', '/templates', { json: body });
export const updateTemplate = (templateId, body) => request('PATCH', `/templates/${id(templateId)}`, { json: body });
export const deleteTemplate = (templateId) => request('DELETE', `/templates/${id(templateId)}`);

// Custom client fields.
export const listCustomFields = async () => (await request('GET', '/custom-fields')).custom_fields || [];
export const createCustomField = (body) => request('POST', '/custom-fields', { json: body });
export const updateCustomField = (fieldId, body) => request('PATCH', `/custom-fields/${id(fieldId)}`, { json: body });
export const deleteCustomField = (fieldId) => request('DELETE', `/custom-fields/${id(fieldId)}`);

// Channels.
export const listChannels = async () => (await request('GET', '/channels')).channels || [];
export const createChannel = (body) => request('POST', '/channels', { json: body });
export const updateChannel = (channelId, patch) => request('PATCH', `/channels/${id(channelId)}`, { json: patch });
export const deleteChannel = (channelId) => request('DELETE', `/channels/${id(channelId)}`);
export const getChannel = (channelId) => request('GET', `/channels/${id(channelId)}`);
export const rotateChannelToken = (channelId) => request('POST', `/channels/${id(channelId)}/token`);
// listPlatforms describes what connecting each messenger asks for:
// {telegram: [{name, label, secret, required, help}], whatsapp: [...]}.
export const listPlatforms = async () => (await request('GET', '/platforms')).platforms || {};

// listOf reads a list answer, whether a bare array or wrapped as {key: [...]}.
const listOf = (data, key) => (Array.isArray(data) ? data : (data && data[key]) || []);

// Scripts: website-chat routing rules by page URL, tried in order.
export const listScripts = async () => listOf(await request('GET', '/scripts'), 'scripts');
export const createScript = (body) => request('POST', '/scripts', { json: body });
export const updateScript = (scriptId, patch) => request('PATCH', `/scripts/${id(scriptId)}`, { json: patch });
export const deleteScript = (scriptId) => request('DELETE', `/scripts/${id(scriptId)}`);
export const reorderScripts = async (ids) => listOf(await request('PUT', '/scripts/order', { json: { ids } }), 'scripts');

// Visitors on the widget sites right now (right omnichannel.management).
export const listVisitors = async () => listOf(await request('GET', '/visitors'), 'visitors');

// Away reasons (Lunch, Training) of the operator status; changes by administrators.
export const listAwayReasons = async () => listOf(await request('GET', '/away-reasons'), 'reasons');
export const createAwayReason = (name) => request('POST', '/away-reasons', { json: { name } });
export const updateAwayReason = (reasonId, name) => request('PATCH', `/away-reasons/${id(reasonId)}`, { json: { name } });
export const deleteAwayReason = (reasonId) => request('DELETE', `/away-reasons/${id(reasonId)}`);

// Settings › Omnichannel and the dispatcher's rules per group.
export const getOmnichannelSettings = () => request('GET', '/settings/omnichannel');
export const saveOmnichannelSettings = (body) => request('PUT', '/settings/omnichannel', { json: body });
export const listDispatchRules = async () => listOf(await request('GET', '/dispatch'), 'rules');
export const saveDispatchRule = (groupId, body) => request('PUT', `/dispatch/${id(groupId)}`, { json: body });

// Management: open live requests and the agents at work (right omnichannel.management).
// listActiveChats answers {chats, next}.
export const listActiveChats = (params) => request('GET', `/management/chats${query(params)}`);
export const listAgentsAtWork = async () => listOf(await request('GET', '/management/agents'), 'agents');
// unassignConversation returns a request to the queue (supervisors).
export const unassignConversation = (cid) => request('POST', `/conversations/${id(cid)}/unassign`);

// sendTyping tells the client an agent is typing a reply (fire and forget).
export const sendTyping = (cid) => request('POST', `/conversations/${id(cid)}/typing`);

// Business hours and SLA policies
// (right omnichannel.settings). Business hours are replaced whole (PUT);
// policies come in the order they are tried, the default last, and are
// reordered by the ids of all the others.
export const listBusinessHours = async () => listOf(await request('GET', '/business-hours'), 'business_hours');
export const createBusinessHours = (body) => request('POST', '/business-hours', { json: body });
export const updateBusinessHours = (hoursId, body) => request('PUT', `/business-hours/${id(hoursId)}`, { json: body });
export const deleteBusinessHours = (hoursId) => request('DELETE', `/business-hours/${id(hoursId)}`);
export const listSLAPolicies = async () => listOf(await request('GET', '/sla-policies'), 'policies');
export const createSLAPolicy = (body) => request('POST', '/sla-policies', { json: body });
export const updateSLAPolicy = (policyId, body) => request('PUT', `/sla-policies/${id(policyId)}`, { json: body });
export const deleteSLAPolicy = (policyId) => request('DELETE', `/sla-policies/${id(policyId)}`);
export const reorderSLAPolicies = (ids) => request('PUT', '/sla-policies/order', { json: { ids } });

// Statistics
// Management › Statistics (right omnichannel.management). Every view takes
// the period (period=today|yesterday|7d|30d|custom, with from and to dates
// for custom) and the filters channel_id, department_id, group_id, agent_id.
export const statsSummary = (params) => request('GET', `/stats/summary${query(params)}`);
export const statsAgents = (params) => request('GET', `/stats/agents${query(params)}`);
export const statsLoad = (params) => request('GET', `/stats/load${query(params)}`);
// statsBreaches answers {period, requests, next}; pass next as before for the following page.
export const statsBreaches = (params, before) => request('GET', `/stats/breaches${query({ ...params, before })}`);
// statsCSVURL is a view's table as a CSV download (the session cookie authenticates it).
export const statsCSVURL = (view, params, table) => `${BASE}/stats/${view}${query({ ...params, format: 'csv', table })}`;
