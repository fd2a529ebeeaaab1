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

test('a large kubectl export is parsed by the second worker; a file that holds more goes back whole', async () => {
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
  const { server, base } = await serve();
  const browser = await launch();
  try {
    for (const [files, helped] of [[[enis, pods], true], [[enis, mixed], false]]) {
      const s = await open(browser.context, `${base}#to=eni-00000000000000000&port=5432`);
      const app = new PodreachPage(s.page);
      // The second worker takes a file only once it has said it is ready.
      await s.page.waitForFunction(() => performance.getEntriesByName('podreach:worker-ready').length > 0, null, { timeout: 30000 });
      await s.page.waitForTimeout(1000);
      await s.page.locator('[data-testid="file-picker"]').setInputFiles(files);
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
      // Only the file that went back whole and was parsed there brought the group that admits
      // them all; without it most are unknown (the groups were not exported).
      // (The 30 reachable without it share the target's instance: ENIs 1-3 of i-0.)
      if (helped) assert.deepEqual(counts, { reachable: 30, blocked: 0, unknown: total - 30 });
      else assert.equal(counts.reachable, total, JSON.stringify(counts));
      assert.deepEqual(s.errors, []);
      await s.page.close();
    }
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
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
    assert.equal(await s.page.evaluate(() => performance.getEntriesByName('podreach:helper-ready').length), 0);
    const app = new PodreachPage(s.page);
    await app.loadExample();
    assert.deepEqual(await app.counts(), { reachable: 6, blocked: 12, unknown: 0 });
    assert.deepEqual(s.errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
