// The e2e harness: serves dist/ statically under a sub-path (as a static host would), launches
// the system's Chromium headless, and records every request the page makes.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { PodreachPage } from './podreach-page.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../../..');
export const dist = process.env.PODREACH_DIST || path.join(root, 'dist');
export const fixtures = path.join(root, 'tests/fixtures');
export const screenshots = path.join(root, 'tests/e2e/screenshots');
export const SUBPATH = '/tools/podreach/';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };

/// Serves dist/; `hold(rel, req)` may return how many ms to wait before serving the file at `rel` (a
/// test's slow network for one file), `refuse(rel, req)` whether to answer 503 instead, and
/// `replace(rel, text)` the text to serve instead of the file's (`text`), or null.
export function serve({ hold = () => 0, refuse = () => false, replace = () => null } = {}) {
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('dist/index.html is missing: run `cargo xtask web` first');
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (!url.pathname.startsWith(SUBPATH)) { res.writeHead(404); res.end('not here'); return; }
    let rel = decodeURIComponent(url.pathname.slice(SUBPATH.length)) || 'index.html';
    const file = path.join(dist, path.normalize(rel));
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404); res.end('missing'); return; }
    if (refuse(rel, req)) { res.writeHead(503); res.end('refused'); return; }
    const ms = hold(rel, req);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    const instead = path.extname(file) === '.js' ? replace(rel, fs.readFileSync(file, 'utf8')) : null;
    if (instead !== null) res.end(instead);
    else fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${server.address().port}${SUBPATH}` })));
}

export async function launch() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'podreach-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: [...(process.env.PODREACH_CHROMIUM_ARGS ? process.env.PODREACH_CHROMIUM_ARGS.split(' ') : []), '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  return {
    context,
    settle: () => settle(userDataDir),
    close: async () => { await context.close(); fs.rmSync(userDataDir, { recursive: true, force: true }); },
  };
}

/// For the benchmark tools: serves dist/, launches the browser, waits for it to settle (unless
/// `settle` is false), runs `init` on a new page (scripts to add before it loads), and opens the
/// page on the query for `target` and `port`. `close()` ends the browser and the server.
export async function openPage({ target, port, settle: wait = true, init = async () => {} }) {
  const { server, base } = await serve();
  const browser = await launch();
  const close = async () => { await browser.close(); server.close(); };
  try {
    const settledMs = wait ? await browser.settle() : null;
    const page = await browser.context.newPage();
    await init(page);
    await page.goto(`${base}#to=${target}&port=${port}`);
    return { page, settledMs, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/// Waits until the browser launched with `userDataDir` has finished its own start-up, and returns
/// how long that took in ms (null where `/proc` cannot tell: then it waits for nothing).
///
/// Why, for the benchmarks: Chromium starts the renderer of its omnibox popup
/// (`chrome://omnibox-popup.top-chrome/`) when it launches, which takes 0.8-0.9 s of CPU in the
/// first two seconds. A page opened at once, with files chosen the moment its worker is ready,
/// shared the two cores with it: 250 ms of its CPU fell within one cold run at 5,000 nodes
/// (BENCHMARKS.md item 51). A user's browser has long finished starting when they open the page.
/// Quiet means the browser's processes used less than `QUIET_TICKS` clock ticks (10 ms each)
/// in each of two polls in a row, `POLL_MS` apart; it gives up after `SETTLE_LIMIT_MS`.
export async function settle(userDataDir) {
  const cpu = () => browserTicks(userDataDir);
  const started = Date.now();
  let last = cpu();
  if (last === null) return null;
  let quiet = 0;
  while (quiet < 2 && Date.now() - started < SETTLE_LIMIT_MS) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const now = cpu();
    if (now === null) return null;
    quiet = now - last < QUIET_TICKS ? quiet + 1 : 0;
    last = now;
  }
  return Date.now() - started;
}

const POLL_MS = 250;
const QUIET_TICKS = 3;
const SETTLE_LIMIT_MS = 15000;

/// The CPU clock ticks (user and system) of every process whose command line names
/// `userDataDir`: the browser launched with it and its children. Null without `/proc`.
function browserTicks(userDataDir) {
  let pids;
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p));
  } catch {
    return null;
  }
  let ticks = 0;
  for (const pid of pids) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(userDataDir)) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      // The fields after the command's name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return ticks;
}

/// Opens the page and records every request (page and workers) and every dialog.
export async function open(context, base) {
  const page = await context.newPage();
  const requests = [];
  const dialogs = [];
  const errors = [];
  context.on('request', (r) => requests.push(r.url()));
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base);
  await page.waitForFunction(() => window.podreach !== undefined, null, { timeout: 30000 });
  return { page, requests, dialogs, errors };
}

export function shot(page, name) {
  fs.mkdirSync(screenshots, { recursive: true });
  return page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
}

/// One served page and browser for a test file: `const t = await setup();` … `await t.close()`.
export async function setup() {
  const { server, base } = await serve();
  const browser = await launch();
  const session = await open(browser.context, base);
  return { base, browser, session, close: async () => { await browser.close(); server.close(); } };
}

/// One served page per test file: registers the hooks and returns the object they fill in
/// ({ base, browser, session, app }).
export function suite() {
  const s = {};
  before(async () => {
    const t = await setup();
    Object.assign(s, t, { app: new PodreachPage(t.session.page) });
  });
  after(async () => { await s.close?.(); });
  return s;
}

/// Requests the page (and its workers) made to anything but its own origin.
export function foreignRequests(s) {
  const origin = new URL(s.base).origin;
  return s.session.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
}
