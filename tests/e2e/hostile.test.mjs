// The hostile corpus against the page: every rejected input shows its message (file, line,
// column, what to do) and keeps what was given; markup in every field stays text; no script
// runs; no request leaves the origin.
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

const cases = fs.readdirSync(fixtures).filter((c) => c.startsWith('h-') || c.startsWith('x-not') || c.startsWith('x-trunc')).sort();

function files(name) {
  const dir = path.join(fixtures, name, 'input');
  return fs.readdirSync(dir).sort().map((f) => ({ name: f, b64: fs.readFileSync(path.join(dir, f)).toString('base64') }));
}

for (const name of cases) {
  const spec = JSON.parse(fs.readFileSync(path.join(fixtures, name, 'case.json'), 'utf8'));
  test(`${name}: ${spec.description}`, async () => {
    await app.id('clear').click();
    await app.dropFilesBytes(files(name));
    if (spec.error) {
      const err = app.id('input-error').first();
      await err.waitFor({ timeout: 60000 });
      const text = await app.id('input-error').allInnerTexts();
      for (const want of spec.error.contains) {
        assert.ok(text.some((t) => t.includes(want)), `${name}: no error mentions ${JSON.stringify(want)}: ${text.join(' | ')}`);
      }
      // The file stays loaded (as a chip) so nothing the user gave is lost.
      assert.ok((await app.id('file-chip').count()) + (await app.id('doc-chip').count()) >= 1);
    } else {
      await app.waitForView();
      assert.equal(await app.id('input-error').count(), 0, `${name}: unexpected error`);
    }
  });
}

test('pasted hostile text stays in the paste area after its error', async () => {
  await app.id('clear').click();
  const text = fs.readFileSync(path.join(fixtures, 'h-trailing-comma/input/sgs.json'), 'utf8');
  await app.paste(text);
  await app.id('input-error').first().waitFor({ timeout: 60000 });
  assert.equal(await app.id('paste').inputValue(), text);
});

test('markup in every field is shown as text and runs nothing', async () => {
  await app.id('clear').click();
  await app.dropFilesBytes(files('h-markup-everywhere'));
  await app.waitForView();
  await app.setPort(5432);
  await app.id('target-typed').fill('eni-0rds');
  await app.waitForView();
  await app.id('source-row').first().waitFor({ timeout: 60000 });
  await app.explain('10.0.1.20');
  await shot(session.page, 'markup-as-text');
  const injected = await session.page.evaluate(() => ({
    imgs: document.querySelectorAll('img').length,
    scripts: [...document.querySelectorAll('script')].filter((s) => !s.src.endsWith('/boot.js')).length,
    text: document.body.innerText.includes('<img src=x onerror=alert(1)>'),
  }));
  assert.deepEqual(injected, { imgs: 0, scripts: 0, text: true });
  assert.deepEqual(session.dialogs, []);
});

test('no request left the origin and nothing threw', async () => {
  const origin = new URL(base).origin;
  assert.deepEqual(session.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:')), []);
  assert.deepEqual(session.errors, []);
});
