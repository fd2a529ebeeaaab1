// The original story, end to end: example → matrix with drift → RDS target → verdicts → an
// explanation → exports with the right content; no request leaves the page's origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite, foreignRequests, shot, fixtures } from './lib/harness.mjs';
import { PodreachPage } from './lib/podreach-page.mjs';

const s = suite();

test('the example shows drift on eth1 and eth2', async () => {
  await s.app.loadExample();
  assert.deepEqual(await s.app.matrixCells('eth0'), ['cell-carried', 'cell-carried']);
  assert.deepEqual(await s.app.matrixCells('eth1'), ['cell-carried', 'cell-missing']);
  assert.deepEqual(await s.app.matrixCells('eth2'), ['cell-carried', 'cell-missing']);
  assert.deepEqual(await s.app.driftEths(), ['eth1', 'eth2']);
  assert.equal((await s.app.chips()).length, 5);
});

test('the rds target on 5432 gives the expected verdicts', async () => {
  // The example opens on the RDS target; pick it again through the picker to exercise it.
  await s.app.pickTarget('eni-0rds');
  await s.app.setPort(5432);
  await s.app.waitForView();
  assert.deepEqual(await s.app.counts(), { reachable: 6, blocked: 12, unknown: 0 });
  const headline = await s.app.id('headline').innerText();
  assert.match(headline, /12 of 18 source addresses cannot reach eni-0rds/);
  assert.match(headline, /secondary enis of i-0f1e2d3c4b5a69788 that lack sg-0dbaccess/);
  const v = await s.app.verdicts();
  for (let i = 10; i <= 15; i++) assert.equal(v[`10.0.1.${i}`], 'reachable', `10.0.1.${i}`);
  for (const i of [20, 21, 22, 23, 24, 25, 30, 31, 32, 33, 34, 35]) assert.equal(v[`10.0.1.${i}`], 'blocked', `10.0.1.${i}`);
  assert.equal(await s.app.id('cause-group').count(), 2);
  assert.match(s.session.page.url(), /#to=eni-0rds&port=5432$/);
  await shot(s.session.page, 'story-results');
});

test('an explanation opens as a chain', async () => {
  const steps = await s.app.explain('10.0.1.22');
  assert.equal(steps.length, 2);
  assert.match(steps[0], /source egress/);
  assert.match(steps[1], /target ingress/);
  assert.match(steps[1], /sg-0dbaccess \(db-access\) admits tcp\/5432 from sg-0dbaccess/);
  assert.match(steps[1], /does not carry/);
  await shot(s.session.page, 'story-explanation');
});

test('fixes and workloads are shown', async () => {
  const codes = await s.app.id('fix').evaluateAll((l) => l.map((x) => x.dataset.code));
  assert.ok(codes.includes('authorize-ingress-group'));
  assert.ok(codes.includes('reachability-analyzer'));
  const rows = await s.app.id('workload-row').allInnerTexts();
  assert.ok(rows.some((r) => r.includes('deployment shop/orders-api') && r.includes('works sometimes')));
});

test('filtering by pod narrows the table', async () => {
  await s.app.id('filter').fill('orders-api');
  await s.session.page.waitForFunction(() => document.querySelectorAll('[data-testid="source-row"]').length === 4);
  await s.app.id('filter').fill('');
  await s.session.page.waitForFunction(() => document.querySelectorAll('[data-testid="source-row"]').length === 18);
});

test('exports download with the right content', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podreach-dl-'));
  const json = await s.app.download('export-json', dir);
  assert.equal(json.name, 'podreach-report.json');
  const report = JSON.parse(json.text);
  assert.equal(report.schema, 'podreach/report@1');
  assert.equal(report.summary.blocked, 12);
  assert.equal(report.sources.length, 18);
  const md = await s.app.download('export-markdown', dir);
  assert.match(md.text, /^# podreach report/);
  const csv = await s.app.download('export-csv', dir);
  assert.equal(csv.text.trim().split('\n').length, 19);
});

test('a link reopens the same view', async () => {
  const page = await s.browser.context.newPage();
  await page.goto(`${s.base}#to=eni-0rds&port=5432`);
  const again = new PodreachPage(page);
  await again.loadExample();
  assert.deepEqual(await again.counts(), { reachable: 6, blocked: 12, unknown: 0 });
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'story-mobile');
  await page.close();
});

test('the javascript api answers with the cli schema', async () => {
  const dir = path.join(fixtures, 'story-t3-medium-hand-attached-group/input');
  const texts = fs.readdirSync(dir).sort().map((name) => ({ name, text: fs.readFileSync(path.join(dir, name), 'utf8') }));
  const report = await s.session.page.evaluate((t) => window.podreach.analyze(t, { to: 'eni-0rds', port: 5432 }), texts);
  assert.equal(report.schema, 'podreach/report@1');
  assert.deepEqual([report.summary.reachable, report.summary.blocked], [6, 12]);
  const loaded = await s.session.page.evaluate((t) => window.podreach.load(t), texts);
  assert.equal(loaded.inputs.length, 5);
  const bad = await s.session.page.evaluate(() => window.podreach.analyze([{ name: 'x', text: '{}' }], { to: 'eni-0nope', port: 1 }).then(() => 'ok', (e) => e.message));
  assert.match(bad, /eni-0nope/);
});

test('no request leaves the page origin, and nothing broke', async () => {
  assert.deepEqual(foreignRequests(s), []);
  assert.deepEqual(s.session.errors, []);
  assert.deepEqual(s.session.dialogs, []);
});
