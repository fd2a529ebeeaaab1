// Inputs: broken JSON shows line and column and keeps the text; dropped files become chips.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setup, shot, fixtures } from './lib/harness.mjs';
import { PodreachPage } from './lib/podreach-page.mjs';

let t, base, browser, session, app;
before(async () => {
  t = await setup();
  ({ base, browser, session } = t);
  app = new PodreachPage(session.page);
});
after(async () => { await t?.close(); });

const broken = '{\n  "NetworkInterfaces": [\n    {"NetworkInterfaceId": "eni-1",}\n  ]\n}';

test('broken json: an error with line and column, and the text stays', async () => {
  await app.paste(broken);
  const err = app.id('input-error');
  await err.waitFor({ timeout: 60000 });
  assert.equal(await err.getAttribute('data-line'), '3');
  assert.equal(await err.getAttribute('data-column'), '36');
  assert.match(await err.innerText(), /pasted text line 3, column 36/);
  assert.match(await err.innerText(), /trailing comma/);
  assert.equal(await app.id('paste').inputValue(), broken);
  await shot(session.page, 'broken-json');
});

test('dropping two files gives both chips, and the error stays with the paste', async () => {
  const dir = path.join(fixtures, '01-secondary-ip-sg-reference/input');
  const files = ['enis.json', 'sgs.json'].map((name) => ({ name, text: fs.readFileSync(path.join(dir, name), 'utf8') }));
  await app.dropFiles(files);
  await session.page.waitForFunction(() => document.querySelectorAll('[data-testid="doc-chip"]').length === 2, null, { timeout: 60000 });
  const chips = await app.chips();
  assert.ok(chips.some((c) => c.includes('network interfaces') && c.includes('enis.json')), chips.join(' | '));
  assert.ok(chips.some((c) => c.includes('security groups') && c.includes('sgs.json')), chips.join(' | '));
  assert.equal(await app.id('paste').inputValue(), broken);
  assert.equal(await app.id('input-error').count(), 1);
});

test('the file picker adds files too', async () => {
  const dir = path.join(fixtures, '02-drifted-secondary-eni/input');
  await app.id('file-picker').setInputFiles([path.join(dir, 'enis.json')]);
  await session.page.waitForFunction(() => [...document.querySelectorAll('[data-testid="doc-chip"]')].some((c) => c.innerText.includes('enis.json (2)')), null, { timeout: 60000 });
});

test('removing a chip removes that input', async () => {
  await app.id('doc-chip').filter({ hasText: 'sgs.json' }).getByRole('button').click();
  await session.page.waitForFunction(() => document.querySelectorAll('[data-testid="doc-chip"]').length === 2, null, { timeout: 60000 });
  assert.ok(!(await app.chips()).some((c) => c.includes('sgs.json')));
});

test('aws --output table is recognised and explained', async () => {
  await app.paste('-----------------------------\n|  DescribeSecurityGroups   |\n+---------------------------+\n');
  await session.page.waitForFunction(() => /--output json/.test(document.querySelector('[data-testid="input-error"]')?.innerText || ''), null, { timeout: 60000 });
});

test('nothing left the origin', async () => {
  const origin = new URL(base).origin;
  assert.deepEqual(session.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:')), []);
  assert.deepEqual(session.errors, []);
});
