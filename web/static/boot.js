// Starts podreach: loads the app's wasm (yew renders into <body>), exposes the JavaScript API,
// and registers a service worker so the page works offline once loaded. No inline script, so
// the Content-Security-Policy needs no hash or nonce.
import init from './podreach-web.js';

performance.mark('podreach:boot');
await init({ module_or_path: './podreach-web_bg.wasm' });
performance.mark('podreach:ready');

// The JavaScript API, for pages that embed the analyzer without the UI. It runs podreach-core in
// its own web worker, so even a whole-account export never blocks the calling page.
//
//   const report = await podreach.analyze([{ name: 'enis.json', text }, …], { to: 'eni-0abc', protocol: 'tcp', port: 5432 });
//   report.summary.blocked; report.sources[0].reasons;   // the CLI's podreach/report@1 schema
//   const { inputs, diagnostics } = await podreach.load([{ name, text }, …]);   // what was recognised
let apiWorker = null;
let apiQueue = [];
const pending = new Map();
let nextSeq = 1;
function call(texts, query) {
  if (!Array.isArray(texts)) return Promise.reject(new TypeError('texts must be an array of {name, text}'));
  if (!apiWorker) {
    apiWorker = new Worker('./worker_loader.js');
    apiWorker.onmessage = (e) => {
      const m = e.data;
      if (m === 'Ready') { for (const q of apiQueue) apiWorker.postMessage(q); apiQueue = null; return; }
      const body = m.Report || m.Failed;
      if (!body || !pending.has(body.seq)) return;
      const p = pending.get(body.seq);
      pending.delete(body.seq);
      if (m.Report) p.resolve(JSON.parse(m.Report.json)); else p.reject(new Error(m.Failed.message));
    };
  }
  const seq = nextSeq++;
  const enc = new TextEncoder();
  const inputs = texts.map((t, i) => ({ id: i + 1, name: String(t.name ?? `text ${i + 1}`), bytes: enc.encode(String(t.text ?? '')) }));
  const q = query ? { to: String(query.to ?? ''), protocol: String(query.protocol ?? 'tcp'), port: query.port ?? null } : null;
  return new Promise((resolve, reject) => {
    pending.set(seq, { resolve, reject });
    const msg = { Api: { seq, inputs, query: q } };
    if (apiQueue) apiQueue.push(msg); else apiWorker.postMessage(msg);
  });
}
window.podreach = Object.freeze({
  analyze: (texts, query) => call(texts, query),
  load: (texts) => call(texts, null).then((r) => ({ inputs: r.inputs, diagnostics: r.diagnostics })),
});

if ('serviceWorker' in navigator && location.protocol.startsWith('http')) {
  navigator.serviceWorker.register('./sw.js').catch(() => {});
}
