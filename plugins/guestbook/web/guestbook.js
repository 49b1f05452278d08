// The guestbook's page: everything it shows comes from the system's named
// query "entries" and goes in with textContent; signing is the verb "sign".
'use strict';

const $ = (id) => document.getElementById(id);

function el (tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function when (seconds) {
  return new Date(seconds * 1000).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

async function refresh () {
  try {
    const [entries, count] = await Promise.all([
      cloudbevy.query('entries', { limit: 200 }),
      cloudbevy.query('count', {}),
    ]);
    const total = cloudbevy.rows(count)[0] || { entries: 0, nodes: 0 };
    $('summary').textContent = `${total.entries} ${total.entries === 1 ? 'entry' : 'entries'} ` +
      `from ${total.nodes} ${total.nodes === 1 ? 'node' : 'nodes'} of the cloud`;
    const list = $('entries');
    list.replaceChildren();
    for (const row of cloudbevy.rows(entries)) {
      const li = el('li');
      li.dataset.id = row.id;
      li.append(el('span', 'who', row.author), el('span', 'when', when(row.signed_at)),
                el('span', 'node', row.node.slice(0, 8)), el('p', 'text', row.message));
      list.append(li);
    }
    $('empty').hidden = list.children.length > 0;
    document.body.dataset.entries = String(list.children.length);
  } catch (e) {
    $('summary').textContent = 'Cannot read the guestbook: ' + e.message;
  }
}

$('sign').addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = $('sign-button');
  const status = $('status');
  button.disabled = true;
  status.className = '';
  status.textContent = 'Signing…';
  try {
    await cloudbevy.call('sign', { author: $('author').value, message: $('message').value });
    $('message').value = '';
    status.textContent = 'Signed. Every host of the guestbook gets it.';
    await refresh();
  } catch (e) {
    status.className = 'error';
    status.textContent = e.message;
  } finally {
    button.disabled = false;
  }
});

cloudbevy.onChange(refresh);
refresh();
