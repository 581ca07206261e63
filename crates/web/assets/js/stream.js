// One small Server-Sent Events client over fetch (EventSource cannot send the bearer
// token): parses named events, reports its state (connecting / live / lost) and
// reconnects with back-off after a lost connection.
import { authHeaders, unauthenticated } from './api.js';

const MIN_DELAY = 500;
const MAX_DELAY = 15000;

/**
 * openStream('/api/v1/board/stream', { onEvent(name, data), onState(state, info) })
 * -> { close() }. States: 'connecting', 'live', 'lost' (info.retryIn ms), 'denied'.
 */
export function openStream(path, { onEvent, onState }) {
  let closed = false;
  let delay = MIN_DELAY;
  let controller = null;
  let timer = null;

  async function connect() {
    if (closed) return;
    onState('connecting', {});
    controller = new AbortController();
    try {
      const res = await fetch(path, {
        headers: authHeaders({ Accept: 'text/event-stream' }),
        signal: controller.signal,
        cache: 'no-store',
      });
      if (res.status === 401) {
        onState('denied', {});
        unauthenticated();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      await read(res.body);
      throw new Error('stream ended');
    } catch (e) {
      if (closed) return;
      onState('lost', { retryIn: delay, error: String(e) });
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, MAX_DELAY);
    }
  }

  async function read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value.replaceAll('\r\n', '\n');
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        dispatch(block);
      }
    }
  }

  function dispatch(block) {
    let name = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') name = val;
      else if (field === 'data') data.push(val);
    }
    if (!data.length) return;
    // The first event proves the connection: the back-off starts again from the bottom.
    delay = MIN_DELAY;
    onState('live', {});
    let parsed;
    try { parsed = JSON.parse(data.join('\n')); } catch { return; }
    onEvent(name, parsed);
  }

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      controller?.abort();
    },
  };
}
