// Offline once loaded: the service worker (web/static/sw.js) keeps the page's own files, so with
// the network gone a reload still opens the page, starts the analysis worker and analyses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, open } from './lib/harness.mjs';
import { PodreachPage } from './lib/podreach-page.mjs';

test('once loaded, the page reloads and analyses with the network off', async () => {
  const { server, base } = await serve();
  const browser = await launch();
  try {
    const s = await open(browser.context, base);
    // The service worker has cached the files and controls the page, and the page has finished
    // starting: its analysis worker is ready (cut off while it still downloads its wasm, the
    // first page would report that as an error of its own).
    await s.page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30000 });
    await s.page.waitForFunction(() => performance.getEntriesByName('podreach:worker-ready').length > 0, null, { timeout: 30000 });
    // No network, and no server either: nothing can come from anywhere but the cache.
    await browser.context.setOffline(true);
    server.close();
    server.closeAllConnections();
    const reloaded = await s.page.reload();
    assert.ok(reloaded?.fromServiceWorker(), 'the page itself came from the service worker');
    await s.page.waitForFunction(() => window.podreach !== undefined, null, { timeout: 30000 });
    const app = new PodreachPage(s.page);
    await app.loadExample();
    assert.deepEqual(await app.counts(), { reachable: 6, blocked: 12, unknown: 0 });
    assert.deepEqual(s.errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
