// The file reader (web/static/reader.js) reads each slice of a large file in parts, into a few
// buffers that the worker sends back once it has copied their bytes (BENCHMARKS.md item 65):
// every byte lands where it belongs, the same buffers are read into again, and a browser that
// cannot read a stream into a given buffer has each slice read whole, as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve, launch, open } from './lib/harness.mjs';
import { PodreachPage } from './lib/podreach-page.mjs';
import { eniExport } from './lib/exports.mjs';

// About 90 MB: six slices of 15 MB, each read in four parts of at most 4 MB.
const ENIS = 30000;
const SLICE_BYTES = 16 << 20;
const PART_BYTES = 4 << 20;
const LANES = 4;
const POOL_BUFFERS = 6;

// Replaces `from` by `to` in `text`, which must hold it: a test whose hook changed nothing would
// test the build as it is.
function swap(text, from, to) {
  assert.ok(text.includes(from), `reader.js no longer has ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

// Chooses the one large ENI export and checks the answer: every address of every ENI but the
// target's ten is a source, and only the 30 that share the target's instance are reachable (no
// groups were given). Returns the reader's console lines that begin with `podreach-test:`.
async function readAndCheck(replace) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podreach-reader-'));
  const enis = path.join(dir, 'enis.json');
  fs.writeFileSync(enis, eniExport(ENIS));
  const size = fs.statSync(enis).size;
  const { server, base } = await serve({ replace: (rel, text) => (rel === 'reader.js' ? replace(text) : null) });
  const browser = await launch();
  try {
    const s = await open(browser.context, `${base}#to=eni-00000000000000000&port=5432`);
    const lines = [];
    s.page.on('console', (m) => {
      if (m.text().startsWith('podreach-test:')) lines.push(m.text());
    });
    const app = new PodreachPage(s.page);
    await s.page.locator('[data-testid="file-picker"]').setInputFiles([enis]);
    await s.page.waitForFunction(() => performance.getEntriesByName('podreach:view').length > 0, null, { timeout: 120000 });
    await app.waitForView();
    const counts = await app.counts();
    const total = ENIS * 10 - 10;
    assert.deepEqual(counts, { reachable: 30, blocked: 0, unknown: total - 30 });
    assert.deepEqual(s.errors, []);
    return { lines, size };
  } finally {
    await browser.close();
    server.close();
  }
}

// How many parts the reader cuts a file of `size` bytes into (as `send` slices it).
function partsOf(size) {
  const count = Math.max(1, Math.ceil(size / SLICE_BYTES));
  const step = Math.ceil(size / count);
  let parts = 0;
  for (let offset = 0; offset < size; offset += step) parts += Math.ceil(Math.min(step, size - offset) / PART_BYTES);
  return parts;
}

test('a large file is read in parts into a few buffers that come back, and every byte lands in place', async () => {
  // Each fresh buffer and each part sent is logged. A lane that waits for a buffer makes a fresh
  // one after 100 ms (a worker that dropped one must not hold up the reading); here it waits a
  // minute, so that the count is exact on a slow machine: without the buffers coming back the
  // run would stall and the test time out.
  const { lines, size } = await readAndCheck((text) => {
    text = swap(text, 'const WAIT_BUFFER_MS = 100;', 'const WAIT_BUFFER_MS = 60000;');
    // Every buffer the reader makes, in the pool or after a wait.
    assert.ok(text.includes('new ArrayBuffer(PART_BYTES)'));
    text = text.replaceAll('new ArrayBuffer(PART_BYTES)', "(console.debug('podreach-test: fresh'), new ArrayBuffer(PART_BYTES))");
    return swap(text, 'post(at, part.bytes, true);', "console.debug('podreach-test: part'); post(at, part.bytes, true);");
  });
  const parts = lines.filter((l) => l === 'podreach-test: part').length;
  const fresh = lines.filter((l) => l === 'podreach-test: fresh').length;
  assert.equal(parts, partsOf(size), `${size} bytes`);
  assert.ok(parts > 2 * POOL_BUFFERS, `${parts} parts: too few to tell reuse from fresh buffers`);
  // Each lane takes a fresh buffer for its first part; more are made only while none has come
  // back, up to the pool's size.
  assert.ok(fresh >= LANES && fresh <= POOL_BUFFERS, `${fresh} fresh buffers for ${parts} parts`);
});

test('a browser that cannot read a stream into a given buffer has each slice read whole', async () => {
  const { lines, size } = await readAndCheck((text) => {
    text = swap(text, "return blob.stream().getReader({ mode: 'byob' });", 'return null;');
    return swap(text, 'post(at, bytes, false);', "console.debug('podreach-test: whole'); post(at, bytes, false);");
  });
  const slices = Math.max(1, Math.ceil(size / SLICE_BYTES));
  assert.ok(slices >= LANES, `${slices} slices`);
  assert.deepEqual(lines, Array(slices).fill('podreach-test: whole'));
});

test('a slice whose stream stops giving bytes has the rest of it read whole, and every byte lands in place', async () => {
  // Chromium's file streams stopped for good in a cold run at 50,000 nodes (BENCHMARKS.md item
  // 66). Here the third slice's stream stops once it has given its first part: the next read
  // never settles.
  const { lines } = await readAndCheck((text) => {
    text = swap(text, 'const STALL_MS = 2000;', 'const STALL_MS = 500;');
    text = swap(
      text,
      "return blob.stream().getReader({ mode: 'byob' });",
      `const r = blob.stream().getReader({ mode: 'byob' });
    if (blob.__stops) {
      let given = 0;
      const own = r.read.bind(r);
      r.read = (view) => (given >= ${PART_BYTES} ? new Promise(() => {}) : own(view).then((x) => { given += x.value ? x.value.byteLength : 0; return x; }));
    }
    return r;`,
    );
    // The slice that stops: the third (offsets are those of \`send\`).
    text = swap(text, 'const blob = file.slice(offset, Math.min(file.size, offset + step));', 'const blob = file.slice(offset, Math.min(file.size, offset + step)); if (k === 2) blob.__stops = true;');
    return swap(text, 'at = await whole(at);', "console.debug(`podreach-test: stalled at ${at}`); at = await whole(at);");
  });
  // The first part (4 MB) came by the stream; the rest of the slice was read whole.
  assert.deepEqual(lines, [`podreach-test: stalled at ${PART_BYTES}`]);
});
