// The bearer token (sessionStorage, or a #token= link read once and removed from the
// address bar) and fetch with it. A 401 anywhere signs the viewer out with a message.

const KEY = 'reception.token';

/** Reads a `#token=...` link into sessionStorage and removes it from the address bar. */
export function takeTokenFromLink() {
  const m = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (!m) return false;
  sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
  const rest = location.hash.replace(/(^#|&)token=[^&]+/, '$1').replace(/^#&?$/, '');
  history.replaceState(null, '', location.pathname + location.search + (rest && rest !== '#' ? rest : '#/board'));
  return true;
}

export function token() { return sessionStorage.getItem(KEY); }
export function setToken(t) { sessionStorage.setItem(KEY, t.trim()); }
export function clearToken() { sessionStorage.removeItem(KEY); }

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** Headers carrying the token. */
export function authHeaders(extra) {
  return { Authorization: `Bearer ${token() || ''}`, ...(extra || {}) };
}

/** Forgets the refused token and tells the shell, which shows the sign-in form. */
export function unauthenticated() {
  clearToken();
  window.dispatchEvent(new CustomEvent('unauthenticated'));
}

/** GET (or another method with `init`) a JSON answer of the API. */
export async function api(path, init) {
  const res = await fetch(path, { ...(init || {}), headers: authHeaders(init?.headers) });
  if (res.status === 401) {
    unauthenticated();
    throw new ApiError(401, 'unauthenticated');
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError(res.status, body?.error?.code, body?.error?.message);
  }
  return body;
}

/** Downloads an authenticated file (a plain link cannot carry the token). */
export async function download(path, filename) {
  const res = await fetch(path, { headers: authHeaders() });
  if (res.status === 401) { unauthenticated(); return; }
  if (!res.ok) throw new ApiError(res.status, 'download_failed');
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
