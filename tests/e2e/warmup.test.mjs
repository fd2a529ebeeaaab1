// The worker warms its compiled code on the bundled example while the page is idle, and any
// request ends the warm-up at once (web/src/engine.rs `warm_round`, BENCHMARKS.md item 30).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve, launch, open } from './lib/harness.mjs';
import { PodreachPage } from './lib/podreach-page.mjs';
import { eniExport } from './lib/exports.mjs';

const warmMarks = (page) => page.evaluate(() => performance.getEntriesByName('podreach:worker-warm').length);

test('an idle page warms its worker up, and a request ends the warm-up', async () => {
  const { server, base } = await serve();
  const browser = await launch();
  try {
    const idle = await open(browser.context, base);
    await idle.page.waitForFunction(() => performance.getEntriesByName('podreach:worker-warm').length > 0, null, { timeout: 30000 });
    assert.equal(await warmMarks(idle.page), 1);
    // The warm-up leaves nothing on the page: no view, no error.
    assert.equal(await idle.page.locator('[data-testid="headline"]').count(), 0);
    assert.deepEqual(idle.errors, []);

    const busy = await open(browser.context, base);
    await new PodreachPage(busy.page).loadExample();
    // Past the quarter of a second the worker waits and the warm-up's cap (4 s): had the request
    // not ended the warm-up or kept it from starting, it would be marked by now.
    await busy.page.waitForTimeout(5500);
    assert.equal(await warmMarks(busy.page), 0);
    assert.deepEqual(busy.errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

test('a large export chosen before the warm-up warms the worker while its bytes are read; a small one does not', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podreach-warm-'));
  const big = path.join(dir, 'enis.json');
  fs.writeFileSync(big, eniExport(12000));
  // Above the worker's WAIT_WARM_MIN_BYTES (32 MB): the read takes long enough to be worth filling.
  assert.ok(fs.statSync(big).size > 32_000_000, `the export is ${fs.statSync(big).size} bytes`);
  const small = path.join(dir, 'small.json');
  fs.writeFileSync(small, eniExport(50));
  const { server, base } = await serve();
  const browser = await launch();
  try {
    for (const [file, warms] of [[big, true], [small, false]]) {
      // With a target, so the answer (and its timing line) is drawn.
      const s = await open(browser.context, `${base}#to=eni-00000000000000000&port=5432`);
      // Chosen the moment the worker is ready (the harness takes 90-150 ms), before the idle
      // warm-up starts (250 ms) or, on a slow machine, long before it could end (about 1 s).
      await s.page.waitForFunction(() => performance.getEntriesByName('podreach:worker-ready').length > 0, null, { timeout: 30000 });
      await s.page.locator('[data-testid="file-picker"]').setInputFiles([file]);
      const app = new PodreachPage(s.page);
      await app.waitForView();
      const timing = await app.id('timing').innerText();
      assert.equal(/warming up meanwhile: \d+ rounds?/.test(timing), warms, timing);
      // Exactly one: the example's long lists, read once while the bytes come (worker.rs
      // `warm_while_waiting`); the example's rounds no longer follow them (BENCHMARKS.md item 59).
      if (warms) assert.match(timing, /waiting for files, warming up meanwhile: 1 round\)/);
      assert.equal(await warmMarks(s.page), 0);
      assert.deepEqual(s.errors, []);
      await s.page.close();
    }
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
