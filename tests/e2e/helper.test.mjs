// A large kubectl export is parsed by a second worker while the analysis worker parses the rest,
// and handed over in a compact form (web/src/services/worker.rs `serve_helper`, core
// `Parsed::to_wire`; BENCHMARKS.md item 61). A file that only begins like one goes back to the
// analysis worker whole and is parsed there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve, launch, open } from './lib/harness.mjs';
import { PodreachPage } from './lib/podreach-page.mjs';
import { eniExport, podExport } from './lib/exports.mjs';

const ENIS = 12000;

/// A security group that admits tcp 5432 from the whole VPC, for the group every ENI holds.
const groups = JSON.stringify({ SecurityGroups: [{
  GroupId: 'sg-0e2e0000000000001', GroupName: 'nodes', VpcId: 'vpc-0e2e0000000000000', Description: 'nodes',
  IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '10.0.0.0/8' }], UserIdGroupPairs: [], PrefixListIds: [], Ipv6Ranges: [] }],
  IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], UserIdGroupPairs: [], PrefixListIds: [], Ipv6Ranges: [] }],
}] }, null, 4);

/// The ENIs, their pods, and the same pods followed by the security groups, in a new directory.
function writeExports() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podreach-helper-'));
  const enis = path.join(dir, 'enis.json');
  fs.writeFileSync(enis, eniExport(ENIS));
  const pods = path.join(dir, 'pods.json');
  const podText = podExport(ENIS);
  fs.writeFileSync(pods, podText);
  // Above the reader's HELP_MIN_BYTES (4 MB) and, with the ENIs, the page's HELP_MIN_BYTES (32 MB).
  assert.ok(fs.statSync(pods).size > 4 << 20, `the pods are ${fs.statSync(pods).size} bytes`);
  assert.ok(fs.statSync(enis).size + fs.statSync(pods).size > 32e6);
  // The same pods, then the security groups: the second worker cannot hand this over.
  const mixed = path.join(dir, 'pods-and-groups.json');
  fs.writeFileSync(mixed, `${podText}\n${groups}\n`);
  return { dir, enis, pods, mixed };
}

/// Opens the page on the ENIs' query once both workers have had time to say they are ready.
async function openReady(browser, base) {
  const s = await open(browser.context, `${base}#to=eni-00000000000000000&port=5432`);
  // The second worker takes a file only once it has said it is ready.
  await s.page.waitForFunction(() => performance.getEntriesByName('podreach:worker-ready').length > 0, null, { timeout: 30000 });
  await s.page.waitForTimeout(1000);
  return s;
}

/// Chooses `files`, waits for the view (the `views`-th of the page), and checks that every pod
/// came through, named, and what the second worker did: `helped`, its result was used; the
/// counts are `{ reachable: 30, ... }` unless `groups` (then all reachable).
async function chooseAndCheck(s, files, { helped, groups, views = 1 }) {
  const app = new PodreachPage(s.page);
  await s.page.locator('[data-testid="file-picker"]').setInputFiles(files);
  await s.page.waitForFunction((n) => performance.getEntriesByName('podreach:view').length >= n, views, { timeout: 120000 });
  await app.waitForView();
  const timing = await app.id('timing').innerText();
  assert.equal(/ms more on a second worker beside it/.test(timing), helped, timing);
  // Every pod came through, named, whichever worker parsed it: pod i has the second address
  // of ENI i (10.x.y.11).
  const rows = await app.id('source-row').evaluateAll((rs) => rs.map((r) => [r.dataset.ip, r.textContent]));
  const podRows = rows.filter(([ip]) => ip.endsWith('.11'));
  assert.ok(podRows.length > 0, rows.map(([ip]) => ip).join(' '));
  for (const [ip, text] of podRows) {
    const [, a, b] = ip.split('.').map(Number);
    assert.ok(text.includes(`shop/web-7f9c4-${a * 256 + b}`), `${ip}: ${text}`);
  }
  const counts = await app.counts();
  // Every address of every ENI but the target's ten is a source.
  const total = counts.reachable + counts.blocked + counts.unknown;
  assert.equal(total, ENIS * 10 - 10, JSON.stringify(counts));
  // Only the file that holds the group that admits them all makes them reachable; without it
  // most are unknown (the groups were not exported). (The 30 reachable without it share the
  // target's instance: ENIs 1-3 of i-0.)
  if (groups) assert.equal(counts.reachable, total, JSON.stringify(counts));
  else assert.deepEqual(counts, { reachable: 30, blocked: 0, unknown: total - 30 });
  assert.deepEqual(s.errors, []);
}

/// How many second workers have said they are ready in the page of `s`.
const helpersReady = (s) => s.page.evaluate(() => performance.getEntriesByName('podreach:helper-ready').length);

/// Writes the exports, serves the page (with `options`, see harness.mjs `serve`) and launches the
/// browser for `body`, then closes them all.
async function withExports(options, body) {
  const exports = writeExports();
  const { server, base } = await serve(options);
  const browser = await launch();
  try {
    await body({ ...exports, browser, base });
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(exports.dir, { recursive: true, force: true });
  }
}

/// `reader.js` with the second worker given `base` ms (and no more per byte) to hand over a file
/// it has whole, for a test that cannot wait the real `handedWithin`.
function shortWatch(base) {
  return (rel, text) => {
    if (rel !== 'reader.js') return null;
    for (const line of ['const HANDED_BASE_MS = 5000;', 'const HANDED_BYTES_PER_MS = 5000;']) {
      assert.ok(text.includes(line), `reader.js no longer has ${line}`);
    }
    return text.replace('const HANDED_BASE_MS = 5000;', `const HANDED_BASE_MS = ${base};`).replace('const HANDED_BYTES_PER_MS = 5000;', 'const HANDED_BYTES_PER_MS = Infinity;');
  };
}

const STUCK = 'podreach: the second worker did not hand its file over';

/// `reader.js` saying (on the console) when the second worker's `Handed` matches the file it was
/// given, just as it stops waiting for it. (A time limit short enough to see it run out would race
/// the fresh second worker the page starts a second after the view, which the reader does not wait
/// for.)
function sayHanded(rel, text) {
  if (rel !== 'reader.js') return null;
  const at = 'clearTimeout(given.timer);\n    given = null;';
  assert.ok(text.includes(at), 'reader.js stops waiting for the second worker as this test expects');
  return text.replace(at, `console.log('podreach-test: handed', handed.run, handed.id); ${at}`);
}

test('a large kubectl export is parsed by the second worker; a file that holds more goes back whole', () =>
  withExports({ replace: sayHanded }, async ({ enis, pods, mixed, browser, base }) => {
    for (const [files, helped] of [[[enis, pods], true], [[enis, mixed], false]]) {
      const s = await openReady(browser, base);
      const said = [];
      s.page.on('console', (m) => said.push(m.text()));
      await chooseAndCheck(s, files, { helped, groups: !helped });
      // It said it had handed over its result, or the file whole, and the reader stopped waiting.
      assert.equal(said.filter((t) => t.startsWith('podreach-test: handed')).length, 1, said.join('\n'));
      assert.deepEqual(said.filter((t) => t.startsWith(STUCK) || t.startsWith('podreach: the second worker failed')), []);
      await s.page.close();
    }
  }));

test('a second worker that never hands over its file is stopped, and the analysis worker parses the file', async () => {
  // The second worker's script, with every slice of a file swallowed without a word, as a second
  // worker stuck in a loop would; and the reader's wait for it cut to 1.5 s.
  const start = "wasm_bindgen('./worker_bg.wasm')";
  const watch = shortWatch(1500);
  const replace = (rel, text) => {
    if (rel === 'reader.js') return watch(rel, text);
    if (rel !== 'helper_loader.js' || !text.includes(start)) return null;
    return text.replace(start, `${start}.then(() => {
      const own = self.onmessage;
      self.onmessage = (e) => (e.data && e.data.Bytes ? undefined : own(e));
    })`);
  };
  await withExports({ replace }, async ({ enis, pods, browser, base }) => {
    const s = await openReady(browser, base);
    const said = [];
    s.page.on('console', (m) => said.push(m.text()));
    assert.equal(await helpersReady(s), 1);
    // Its result never came (the timing line does not name it), yet every pod is there.
    await chooseAndCheck(s, [enis, pods], { helped: false });
    assert.deepEqual(said.filter((t) => t.startsWith(STUCK)), [`${STUCK} within 1500 ms; going on without it`], said.join('\n'));
    // Stopped as one that failed: not replaced after the run (a fresh one would be ready by now).
    await s.page.waitForTimeout(3000);
    assert.equal(await helpersReady(s), 1);
    assert.deepEqual(s.errors, []);
  });
});

test('after a run it served, a fresh second worker takes its place and serves the next run', () =>
  withExports({}, async ({ enis, pods, browser, base }) => {
    const s = await openReady(browser, base);
    assert.equal(await helpersReady(s), 1);
    await chooseAndCheck(s, [enis, pods], { helped: true });
    // The fresh one says it is ready a second after the view (RENEW_AFTER_MS) and a moment more.
    await s.page.waitForFunction(() => performance.getEntriesByName('podreach:helper-ready').length === 2, null, { timeout: 30000 });
    // The same files again, added to those loaded (their copies are merged): the fresh second
    // worker parses the pods, so the reader and the analysis worker are connected to it.
    await chooseAndCheck(s, [enis, pods], { helped: true, views: 2 });
    assert.ok((await s.page.locator('[data-testid="doc-chip"]').allInnerTexts()).some((c) => c.includes('pods.json (2)')));
  }));

test('when the second worker fails with the pods, the analysis worker parses them and the run ends as it would', async () => {
  // The second worker's script, with an error thrown at its first slice of a file, as an error in
  // its wasm would be.
  const start = "wasm_bindgen('./worker_bg.wasm')";
  let replaced = 0;
  const replace = (rel, text) => {
    if (rel !== 'helper_loader.js' || !text.includes(start)) return null;
    replaced += 1;
    return text.replace(start, `${start}.then(() => {
      const own = self.onmessage;
      self.onmessage = (e) => { if (e.data && e.data.Bytes) throw new Error('e2e: the second worker fails'); return own(e); };
    })`);
  };
  await withExports({ replace }, async ({ enis, pods, browser, base }) => {
    const s = await openReady(browser, base);
    const said = [];
    s.page.on('console', (m) => said.push(m.text()));
    // Served to the second worker (and to the service worker, which keeps a copy).
    assert.ok(replaced >= 1);
    assert.equal(await helpersReady(s), 1);
    // Its result never came (the timing line does not name it), yet every pod is there.
    await chooseAndCheck(s, [enis, pods], { helped: false });
    assert.equal(said.filter((t) => t.startsWith('podreach: the second worker failed')).length, 1, said.join('\n'));
    // A second worker that failed is not replaced after the run (a fresh one would be ready by now).
    await s.page.waitForTimeout(3000);
    assert.equal(await helpersReady(s), 1);
  });
});

test('a run that fails on the second worker\'s result ends with a message, and a fresh second worker takes its place', async () => {
  // The second worker's script, with its result cut short on the way out (as a damaged result
  // would be): the analysis worker cannot read it back and fails the run.
  const start = "wasm_bindgen('./worker_bg.wasm')";
  const replace = (rel, text) => (rel !== 'helper_loader.js' || !text.includes(start) ? null : `${text}
const post = MessagePort.prototype.postMessage;
MessagePort.prototype.postMessage = function (msg, transfer) {
  if (msg && msg.Converted) msg.Converted.bytes = msg.Converted.bytes.subarray(0, 10);
  return post.call(this, msg, transfer);
};
`);
  await withExports({ replace }, async ({ enis, pods, browser, base }) => {
    const s = await openReady(browser, base);
    assert.equal(await helpersReady(s), 1);
    await s.page.locator('[data-testid="file-picker"]').setInputFiles([enis, pods]);
    const alert = s.page.getByRole('alert');
    await alert.waitFor({ timeout: 60000 });
    assert.equal(await alert.innerText(), "pods.json: the second worker's result could not be read; reload the page and choose the files again");
    assert.equal(await s.page.evaluate(() => performance.getEntriesByName('podreach:view').length), 0);
    // The run has ended: its second worker is replaced a second later.
    await s.page.waitForFunction(() => performance.getEntriesByName('podreach:helper-ready').length === 2, null, { timeout: 30000 });
    assert.deepEqual(s.errors, []);
  });
});

test('the page works without the second worker when its wasm cannot load, and says nothing of it', async () => {
  // The second worker's request for the wasm (its referrer is the second worker's script) is
  // refused; the analysis worker's is served.
  let refused = 0;
  const fromHelper = (rel, req) => rel === 'worker_bg.wasm' && (req.headers.referer ?? '').endsWith('/helper_loader.js');
  const { server, base } = await serve({ refuse: (rel, req) => fromHelper(rel, req) && ++refused > 0 });
  const browser = await launch();
  try {
    const s = await open(browser.context, base);
    await s.page.waitForFunction(() => performance.getEntriesByName('podreach:worker-ready').length > 0, null, { timeout: 30000 });
    await s.page.waitForTimeout(1500);
    assert.equal(refused, 1, 'the second worker asked for its wasm once');
    assert.equal(await helpersReady(s), 0);
    const app = new PodreachPage(s.page);
    await app.loadExample();
    assert.deepEqual(await app.counts(), { reachable: 6, blocked: 12, unknown: 0 });
    assert.deepEqual(s.errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
