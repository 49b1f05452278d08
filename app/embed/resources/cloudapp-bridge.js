// /.cloudbevy/bridge.js: what a cloud app's page uses to reach its system.
//
//   cloudbevy.system                    "github.com/cloudbevy/guestbook"
//   await cloudbevy.query(name, params) one of the system's named queries:
//                                       {columns: [...], rows: [[...], ...], truncated}
//   await cloudbevy.call(verb, params)  one of the system's verbs (what the CLI runs)
//   cloudbevy.rows(result)              rows as objects keyed by column
//   cloudbevy.onChange(fn)              fn() whenever the system's data changed here
//
// Requests leave the page as DOM events; a script of the browser's in a
// private world (which the page cannot reach) carries them to the system
// and back.  Nothing here can name another system.
(() => {
  'use strict';
  const pending = new Map();
  const listeners = new Set();
  let next = 0;

  document.addEventListener('cloudbevy:reply', (event) => {
    let message;
    try {
      message = JSON.parse(event.detail);
    } catch (e) {
      return;
    }
    const waiting = pending.get(message.id);
    if (!waiting)
      return;
    pending.delete(message.id);
    if (message.error !== undefined)
      waiting.reject(new Error(message.error));
    else
      waiting.resolve(message.result);
  });
  document.addEventListener('cloudbevy:changed', () => {
    for (const fn of listeners) {
      try {
        fn();
      } catch (e) {
        console.error(e);
      }
    }
  });

  function request (op, name, params) {
    return new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      document.dispatchEvent(new CustomEvent('cloudbevy:request', {
        detail: JSON.stringify({ id, op, name: String(name), params: params || {} }),
      }));
    });
  }

  const api = {
    system: location.host.split('+').join('/'),
    query: (name, params) => request('query', name, params),
    call: (verb, params) => request('call', verb, params),
    rows: (result) => (result.rows || []).map((row) =>
      Object.fromEntries(result.columns.map((column, i) => [column, row[i]]))),
    onChange: (fn) => { listeners.add(fn); },
  };
  Object.defineProperty(window, 'cloudbevy', { value: Object.freeze(api) });
})();
