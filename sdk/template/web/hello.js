'use strict';
async function show () {
  const list = document.getElementById('greetings');
  list.replaceChildren();
  for (const row of cloudbevy.rows(await cloudbevy.query('recent', {}))) {
    const li = document.createElement('li');
    li.textContent = `${row.name} said hello`;
    list.append(li);
  }
}
document.getElementById('greet').addEventListener('submit', async (e) => {
  e.preventDefault();
  await cloudbevy.call('greet', { name: document.getElementById('name').value });
  show();
});
cloudbevy.onChange(show);
show();
