// The hostile corpus against the page: every rejected input shows its message (file, line,
// column, what to do) and keeps what was given; markup in every field stays text; no script
// runs; no request leaves the origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { suite, foreignRequests, shot, fixtures } from './lib/harness.mjs';

const s = suite();

const cases = fs.readdirSync(fixtures).filter((c) => c.startsWith('h-') || c.startsWith('x-not') || c.startsWith('x-trunc')).sort();

function files(name) {
  const dir = path.join(fixtures, name, 'input');
  return fs.readdirSync(dir).sort().map((f) => ({ name: f, b64: fs.readFileSync(path.join(dir, f)).toString('base64') }));
}

for (const name of cases) {
  const spec = JSON.parse(fs.readFileSync(path.join(fixtures, name, 'case.json'), 'utf8'));
  test(`${name}: ${spec.description}`, async () => {
    await s.app.id('clear').click();
    const given = files(name);
    await s.app.dropFilesBytes(given);
    if (spec.error) {
      const err = s.app.id('input-error').first();
      await err.waitFor({ timeout: 60000 });
      const text = await s.app.id('input-error').allInnerTexts();
      for (const want of spec.error.contains) {
        assert.ok(text.some((t) => t.includes(want)), `${name}: no error mentions ${JSON.stringify(want)}: ${text.join(' | ')}`);
      }
      // Every file stays loaded, as a "not recognised" chip, so nothing the user gave is lost.
      assert.equal(await s.app.id('file-chip').count(), given.length);
      assert.equal(await s.app.id('doc-chip').count(), 0);
    } else {
      await s.app.waitForView();
      assert.equal(await s.app.id('input-error').count(), 0, `${name}: unexpected error`);
    }
  });
}

test('pasted hostile text stays in the paste area after its error', async () => {
  await s.app.id('clear').click();
  const text = fs.readFileSync(path.join(fixtures, 'h-trailing-comma/input/sgs.json'), 'utf8');
  await s.app.paste(text);
  await s.app.id('input-error').first().waitFor({ timeout: 60000 });
  assert.equal(await s.app.id('paste').inputValue(), text);
});

test('markup in every field is shown as text and runs nothing', async () => {
  await s.app.id('clear').click();
  await s.app.dropFilesBytes(files('h-markup-everywhere'));
  await s.app.waitForView();
  await s.app.setPort(5432);
  await s.app.id('target-typed').fill('eni-0rds');
  await s.app.waitForView();
  await s.app.id('source-row').first().waitFor({ timeout: 60000 });
  await s.app.explain('10.0.1.20');
  await shot(s.session.page, 'markup-as-text');
  const injected = await s.session.page.evaluate(() => ({
    imgs: document.querySelectorAll('img').length,
    scripts: [...document.querySelectorAll('script')].filter((s) => !s.src.endsWith('/boot.js')).length,
    text: document.body.innerText.includes('<img src=x onerror=alert(1)>'),
  }));
  assert.deepEqual(injected, { imgs: 0, scripts: 0, text: true });
  assert.deepEqual(s.session.dialogs, []);
});

test('no request left the origin and nothing threw', async () => {
  assert.deepEqual(foreignRequests(s), []);
  assert.deepEqual(s.session.errors, []);
});
