// Inputs: broken JSON shows line and column and keeps the text; dropped files become chips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { suite, foreignRequests, shot, fixtures } from './lib/harness.mjs';
import { PodreachPage } from './lib/podreach-page.mjs';

const s = suite();

const broken = '{\n  "NetworkInterfaces": [\n    {"NetworkInterfaceId": "eni-1",}\n  ]\n}';

test('broken json: an error with line and column, and the text stays', async () => {
  await s.app.paste(broken);
  const err = s.app.id('input-error');
  await err.waitFor({ timeout: 60000 });
  assert.equal(await err.getAttribute('data-line'), '3');
  assert.equal(await err.getAttribute('data-column'), '36');
  assert.match(await err.innerText(), /pasted text line 3, column 36/);
  assert.match(await err.innerText(), /trailing comma/);
  assert.equal(await s.app.id('paste').inputValue(), broken);
  await shot(s.session.page, 'broken-json');
});

test('dropping two files gives both chips, and the error stays with the paste', async () => {
  const dir = path.join(fixtures, '01-secondary-ip-sg-reference/input');
  const files = ['enis.json', 'sgs.json'].map((name) => ({ name, text: fs.readFileSync(path.join(dir, name), 'utf8') }));
  await s.app.dropFiles(files);
  await s.session.page.waitForFunction(() => document.querySelectorAll('[data-testid="doc-chip"]').length === 2, null, { timeout: 60000 });
  const chips = await s.app.chips();
  assert.ok(chips.some((c) => c.includes('network interfaces') && c.includes('enis.json')), chips.join(' | '));
  assert.ok(chips.some((c) => c.includes('security groups') && c.includes('sgs.json')), chips.join(' | '));
  assert.equal(await s.app.id('paste').inputValue(), broken);
  assert.equal(await s.app.id('input-error').count(), 1);
});

test('the file picker adds files too', async () => {
  const dir = path.join(fixtures, '02-drifted-secondary-eni/input');
  await s.app.id('file-picker').setInputFiles([path.join(dir, 'enis.json')]);
  await s.session.page.waitForFunction(() => [...document.querySelectorAll('[data-testid="doc-chip"]')].some((c) => c.innerText.includes('enis.json (2)')), null, { timeout: 60000 });
});

test('chosen files are read off the main thread', async () => {
  // Counts the page's own reads of any file or blob: a file of hundreds of MB read there held the
  // main thread for 50-130 ms at a time (BENCHMARKS.md item 47); reader.js reads them instead.
  const page = await s.browser.context.newPage();
  await page.addInitScript(() => {
    window.mainThreadReads = 0;
    for (const method of ['arrayBuffer', 'text', 'stream', 'bytes']) {
      const own = Blob.prototype[method];
      if (own) Blob.prototype[method] = function (...args) { window.mainThreadReads += 1; return own.apply(this, args); };
    }
  });
  await page.goto(`${s.base}#to=eni-0rds&port=5432`);
  const dir = path.join(fixtures, 'story-t3-medium-hand-attached-group/input');
  await page.locator('[data-testid="file-picker"]').setInputFiles(fs.readdirSync(dir).map((f) => path.join(dir, f)));
  const app = new PodreachPage(page);
  await app.waitForView();
  assert.deepEqual(await app.counts(), { reachable: 6, blocked: 12, unknown: 0 });
  assert.equal(await page.evaluate(() => window.mainThreadReads), 0);
  await page.close();
});

test('removing a chip removes that input', async () => {
  await s.app.id('doc-chip').filter({ hasText: 'sgs.json' }).getByRole('button').click();
  await s.session.page.waitForFunction(() => document.querySelectorAll('[data-testid="doc-chip"]').length === 2, null, { timeout: 60000 });
  assert.ok(!(await s.app.chips()).some((c) => c.includes('sgs.json')));
});

test('aws --output table is recognised and explained', async () => {
  await s.app.paste('-----------------------------\n|  DescribeSecurityGroups   |\n+---------------------------+\n');
  await s.session.page.waitForFunction(() => /--output json/.test(document.querySelector('[data-testid="input-error"]')?.innerText || ''), null, { timeout: 60000 });
});

test('nothing left the origin', async () => {
  assert.deepEqual(foreignRequests(s), []);
  assert.deepEqual(s.session.errors, []);
});
