// The worker warms its compiled code on the bundled example while the page is idle, and any
// request ends the warm-up at once (web/src/engine.rs `warm_round`, BENCHMARKS.md item 30).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, open } from './lib/harness.mjs';
import { PodreachPage } from './lib/podreach-page.mjs';

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
    // Past the second the worker waits and the warm-up's cap (4 s): had the request not kept the
    // warm-up from starting, it would be marked by now.
    await busy.page.waitForTimeout(5500);
    assert.equal(await warmMarks(busy.page), 0);
    assert.deepEqual(busy.errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
