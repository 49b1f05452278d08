// cloud:apps: the app catalog.  This script runs in the browser's private
// "cloudbevy-catalog" script world: the page's own world has no handle on
// the catalog, and every string from repositories goes in as text.
(() => {
  'use strict';
  const page = /^cloud:\/*([^/?#]*)/i.exec(location.href);
  if (!page || page[1].toLowerCase() !== 'apps' || window.top !== window)
    return;
  const token = document.documentElement.dataset.token;
  const handler = window.webkit.messageHandlers.cbCatalog;
  const root = document.getElementById('catalog');
  let state = JSON.parse(document.getElementById('catalog-data').textContent);
  const progress = new Map();   // system -> {stage, fraction}
  const errors = new Map();     // system -> message of the last failed action
  let banner = null;            // {text, info}
  let repoMessage = null;       // {text, error}

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const button = (label, cls, fn) => {
    const b = el('button', cls, label);
    b.type = 'button';
    b.addEventListener('click', fn);
    return b;
  };
  const size = (bytes) => bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB`
    : bytes >= 1e3 ? `${Math.round(bytes / 1e3)} kB` : `${bytes} B`;
  const compareVersions = (a, b) => {
    const x = a.split('.').map(Number), y = b.split('.').map(Number);
    for (let i = 0; i < Math.max(x.length, y.length); i++)
      if ((x[i] || 0) !== (y[i] || 0))
        return (x[i] || 0) < (y[i] || 0) ? -1 : 1;
    return 0;
  };
  const hue = (text) => { let h = 0; for (const c of text) h = (h * 31 + c.codePointAt(0)) % 360; return h; };

  async function ask (op, args) {
    const answer = await handler.postMessage(Object.assign({ op, token }, args || {}));
    return JSON.parse(answer);
  }

  async function act (system, op, args) {
    errors.delete(system);
    if (op === 'install' || op === 'update')
      progress.set(system, { stage: 'refreshing', fraction: -1 });
    render();
    try {
      await ask(op, Object.assign({ name: system }, args));
    } catch (e) {
      errors.set(system, e.message);
    }
    progress.delete(system);
    render();
  }

  const stageText = { refreshing: 'Checking the repository…', downloading: 'Downloading…',
                      loading: 'Verifying and loading…' };
  const stateText = { available: 'Available', installed: 'Installed', update: 'Update available',
                      disabled: 'Disabled', failed: 'Failed', busy: 'Working…' };

  function card (app) {
    const c = el('article', 'card');
    c.dataset.system = app.system;
    c.dataset.state = app.state;
    const head = el('div', 'head');
    const icon = el('div', 'icon', (app.title || app.system).slice(0, 1).toUpperCase());
    icon.style.background = `hsl(${hue(app.system)} 55% 48%)`;
    const names = el('div');
    names.append(el('div', 'title', app.title), el('div', 'system mono', app.system));
    head.append(icon, names);
    c.append(head);
    if (app.description)
      c.append(el('p', 'desc', app.description));

    const meta = el('dl', 'meta');
    const row = (k, v, cls) => { meta.append(el('dt', null, k)); meta.append(el('dd', cls, v)); };
    const installed = app.installed;
    const available = app.available;
    const stateBadge = el('span', `badge ${app.state}`, stateText[app.state] || app.state);
    meta.append(el('dt', null, 'State'));
    const dd = el('dd');
    dd.append(stateBadge);
    meta.append(dd);
    if (installed)
      row('Installed', installed.version + (installed.previous ? ` (previous ${installed.previous})` : ''));
    if (available && (!installed || available.version !== installed.version))
      row(installed ? 'Newest' : 'Version', available.version);
    row('Size', size((installed || available).size));
    if (app.publisher)
      row('Publisher', app.publisher);
    if (app.fingerprint)
      row('Key', app.fingerprint, 'mono fingerprint');
    c.append(meta);

    const busy = progress.get(app.system) || (app.progress && app.state === 'busy' ? app.progress : null);
    if (busy) {
      const p = el('div', 'progress');
      const bar = el('div', busy.fraction >= 0 ? 'bar' : 'bar indeterminate');
      const fill = el('div');
      if (busy.fraction >= 0)
        fill.style.width = `${Math.round(busy.fraction * 100)}%`;
      bar.append(fill);
      p.append(el('span', null, (stageText[busy.stage] || busy.stage) +
                                (busy.fraction >= 0 ? ` ${Math.round(busy.fraction * 100)}%` : '')), bar);
      c.append(p);
    }
    const error = errors.get(app.system) || app.error;
    if (error)
      c.append(el('p', 'error', error));

    const actions = el('div', 'actions');
    if (!busy) {
      if (!installed) {
        actions.append(button('Install', 'suggested', () => act(app.system, 'install')));
      } else {
        if (installed.running && (app.web_ui || installed.native_ui))
          actions.append(button('Open', 'suggested', () => act(app.system, 'open')));
        if (app.state === 'update')
          actions.append(button(`Update to ${available.version}`, installed.running ? '' : 'suggested',
                                () => act(app.system, 'update')));
        if (installed.previous) {
          const older = compareVersions(installed.previous, installed.version) < 0;
          actions.append(button(`${older ? 'Roll back' : 'Return'} to ${installed.previous}`, '',
                                () => act(app.system, 'rollback')));
        }
        actions.append(installed.enabled
          ? button('Disable', '', () => act(app.system, 'disable'))
          : button('Enable', '', () => act(app.system, 'enable')));
        actions.append(button('Remove', 'destructive', () => confirmRemove(app)));
      }
    }
    c.append(actions);
    return c;
  }

  function confirmRemove (app) {
    const d = el('dialog');
    d.id = 'remove-dialog';
    const body = el('div', 'body');
    body.append(el('h2', null, `Remove ${app.title}?`),
                el('p', null, 'Its code is unloaded and deleted from this computer. What it stored here ' +
                              'stays, so installing it again brings it back, unless you delete it too.'));
    const label = el('label', 'check');
    const box = el('input');
    box.type = 'checkbox';
    box.id = 'delete-data';
    label.append(box, el('span', null, 'Also delete its data on this computer'));
    body.append(label);
    const buttons = el('div', 'buttons');
    buttons.append(button('Cancel', '', () => d.close()),
                   button('Remove', 'suggested destructive', () => {
                     d.close();
                     act(app.system, 'remove', { delete_data: box.checked });
                   }));
    d.append(body, buttons);
    d.addEventListener('close', () => d.remove());
    document.body.append(d);
    d.showModal();
  }

  function repositoriesDialog () {
    let d = document.getElementById('repos-dialog');
    if (!d) {
      d = el('dialog');
      d.id = 'repos-dialog';
      document.body.append(d);
    }
    d.replaceChildren();
    const body = el('div', 'body');
    body.append(el('h2', null, 'Repositories'),
                el('p', 'dim', 'Apps come from signed repositories. The publisher key of each is pinned ' +
                               'when it is added: updates signed by another key are refused.'));
    const list = el('div');
    for (const repo of state.repositories || []) {
      const r = el('div', 'repo');
      r.dataset.url = repo.url;
      const info = el('div');
      info.append(el('div', 'name', repo.name + (repo.builtin ? ' (installed with Cloud Bevy)' : '')),
                  el('div', 'mono dim', repo.url),
                  el('div', 'mono', `Key ${repo.fingerprint}`),
                  el('div', 'dim', `${repo.packages} app${repo.packages === 1 ? '' : 's'}, index version ${repo.index_version}`));
      if (repo.error)
        info.append(el('p', 'error', repo.error));
      r.append(info, button('Remove', 'destructive', async () => {
        try {
          await ask('repo-remove', { address: repo.url });
          repoMessage = null;
        } catch (e) {
          repoMessage = { text: e.message, error: true };
        }
      }));
      list.append(r);
    }
    if (!(state.repositories || []).length)
      list.append(el('p', 'dim', 'No repositories yet.'));
    body.append(list);
    const form = el('form', 'add');
    const input = el('input');
    input.id = 'repo-address';
    input.placeholder = 'https://…, file:///…, or github.com/ORG/REPO';
    input.required = true;
    const add = el('button', 'suggested', 'Add');
    add.type = 'submit';
    form.append(input, add);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      add.disabled = true;
      repoMessage = { text: 'Checking the repository…', error: false };
      repositoriesDialog();
      try {
        const added = await ask('repo-add', { address: input.value });
        repoMessage = { text: `Added ${added.name}: ${added.packages} app${added.packages === 1 ? '' : 's'}. ` +
                              `Publisher key ${added.fingerprint} is pinned.`, error: false };
      } catch (e) {
        repoMessage = { text: e.message, error: true };
      }
      repositoriesDialog();
    });
    body.append(el('h2', null, 'Add a repository'), form);
    if (repoMessage)
      body.append(el('p', repoMessage.error ? 'error' : 'dim', repoMessage.text));
    const buttons = el('div', 'buttons');
    buttons.append(button('Done', '', () => { repoMessage = null; d.close(); }));
    d.append(body, buttons);
    if (!d.open)
      d.showModal();
  }

  function render () {
    root.replaceChildren();
    const top = el('header', 'top');
    const titles = el('div');
    titles.append(el('h1', null, 'Cloud Apps'));
    if (state.error) {
      root.append(top);
      top.append(titles);
      root.append(el('p', 'banner', `The cloud node is not running: ${state.error}`));
      return;
    }
    const repos = state.repositories || [];
    titles.append(el('p', 'dim', `Systems for this cloud from ${repos.length} signed ` +
                                 `repositor${repos.length === 1 ? 'y' : 'ies'}, for ${state.arch}`));
    const tools = el('div', 'toolbar');
    tools.append(button('Check for Updates', '', async () => {
      banner = { text: 'Checking the repositories…', info: true };
      render();
      try {
        await ask('refresh');
        banner = null;
      } catch (e) {
        banner = { text: e.message };
      }
      render();
    }), button('Repositories…', '', repositoriesDialog));
    top.append(titles, tools);
    root.append(top);
    if (banner)
      root.append(el('p', banner.info ? 'banner info' : 'banner', banner.text));

    const apps = state.apps || [];
    const mine = apps.filter((a) => a.installed);
    const offered = apps.filter((a) => !a.installed);
    const section = (title, list, empty) => {
      root.append(el('h2', null, title));
      if (!list.length) {
        root.append(el('p', 'empty', empty));
        return;
      }
      const grid = el('div', 'grid');
      list.forEach((a) => grid.append(card(a)));
      root.append(grid);
    };
    section('Installed', mine, 'No apps are installed yet.');
    section('Available', offered, repos.length ? 'Every app the repositories offer is installed.'
                                               : 'Add a repository to find apps.');
    const d = document.getElementById('repos-dialog');
    if (d && d.open)
      repositoriesDialog();
  }

  window.cbCatalog = Object.freeze({
    update (next) {
      state = next;
      render();
    },
    progress (p) {
      progress.set(p.system, { stage: p.stage, fraction: p.fraction });
      render();
    },
  });
  render();
})();
