// The page object: every selector is a data-testid; tests speak in user actions.
import fs from 'node:fs';
import path from 'node:path';

export class PodreachPage {
  constructor(page) { this.page = page; }
  id(name) { return this.page.locator(`[data-testid="${name}"]`); }

  async loadExample() {
    await this.id('load-example').click();
    await this.waitForView();
  }

  /// Waits until the worker's answer is on screen and nothing is in progress.
  async waitForView() {
    await this.id('headline').waitFor({ timeout: 60000 });
    await this.page.waitForFunction(() => !document.querySelector('[data-testid="progress"]'), null, { timeout: 120000 });
    // A view is drawn in parts, a frame each: wait for the last.
    await this.id('drawn').waitFor({ state: 'attached', timeout: 60000 });
  }

  async paste(text) {
    await this.id('paste').fill(text);
  }

  async chips() { return this.id('doc-chip').allInnerTexts(); }

  /// Matrix cells of one eth row: the data-testids of its cells.
  async matrixCells(eth) {
    const row = this.page.locator(`[data-testid="matrix-row"][data-eth="${eth}"]`);
    return row.locator('td[data-testid^="cell-"]').evaluateAll((tds) => tds.map((td) => td.dataset.testid));
  }

  async driftEths() {
    return this.id('drift-item').evaluateAll((lis) => lis.map((li) => li.dataset.eth));
  }

  async pickTarget(eni) { await this.id('target-select').selectOption(eni); }
  async setPort(port) { await this.id('port').fill(String(port)); }

  async counts() {
    const n = async (k) => Number((await this.id(`count-${k}`).locator('strong').innerText()).trim());
    return { reachable: await n('reachable'), blocked: await n('blocked'), unknown: await n('unknown') };
  }

  async verdicts() {
    return this.id('source-row').evaluateAll((rows) => Object.fromEntries(rows.map((r) => [r.dataset.ip, r.dataset.verdict])));
  }

  async explain(ip) {
    await this.page.locator(`[data-testid="source-row"][data-ip="${ip}"] [data-testid="explain"]`).click();
    return this.id('chain-step').allInnerTexts();
  }

  async download(testid, dir) {
    const [dl] = await Promise.all([this.page.waitForEvent('download'), this.id(testid).click()]);
    const file = path.join(dir, dl.suggestedFilename());
    await dl.saveAs(file);
    return { name: dl.suggestedFilename(), text: fs.readFileSync(file, 'utf8') };
  }

  /// Drops files on the drop zone, as a user dragging them from a file manager would.
  async dropFiles(files) {
    const dt = await this.page.evaluateHandle((list) => {
      const d = new DataTransfer();
      for (const f of list) d.items.add(new File([f.text], f.name, { type: 'application/json' }));
      return d;
    }, files);
    await this.id('drop-zone').dispatchEvent('drop', { dataTransfer: dt });
  }

  /// Drops files given as base64 bytes (so invalid UTF-8 arrives as it is).
  async dropFilesBytes(files) {
    const dt = await this.page.evaluateHandle((list) => {
      const d = new DataTransfer();
      for (const f of list) {
        const bin = atob(f.b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        d.items.add(new File([bytes], f.name));
      }
      return d;
    }, files);
    await this.id('drop-zone').dispatchEvent('drop', { dataTransfer: dt });
  }
}
