// The browser's half of the cloud app bridge, in a private script world:
// only cloudapp:// documents get it, and their own scripts cannot see it.
// It takes the page's request events to the browser and answers them.
(() => {
  'use strict';
  if (location.protocol !== 'cloudapp:' || window.top !== window)
    return;
  const handler = window.webkit.messageHandlers.cbApp;

  document.addEventListener('cloudbevy:request', async (event) => {
    let message;
    try {
      message = JSON.parse(event.detail);
    } catch (e) {
      return;
    }
    if (typeof message !== 'object' || message === null || typeof message.id !== 'number')
      return;
    let reply;
    try {
      const result = await handler.postMessage({
        op: String(message.op),
        name: String(message.name),
        params: JSON.stringify(message.params || {}),
        origin: location.origin,
      });
      reply = { id: message.id, result: JSON.parse(result) };
    } catch (e) {
      reply = { id: message.id, error: String(e && e.message ? e.message : e) };
    }
    document.dispatchEvent(new CustomEvent('cloudbevy:reply', { detail: JSON.stringify(reply) }));
  });

  // The browser calls this when the system's data changed here.
  window.cbAppChanged = () => document.dispatchEvent(new CustomEvent('cloudbevy:changed'));
})();
