// Offline once loaded: the page's own files, network first and the cache when offline.
// It only ever fetches this origin's files; it never sees what you paste.
const CACHE = 'podreach-v2';
const FILES = ['./', './index.html', './boot.js', './podreach-web.js', './podreach-web_bg.wasm',
  './worker_loader.js', './helper_loader.js', './worker.js', './worker_bg.wasm', './reader.js', './style.css'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin) return;
  e.respondWith(fetch(e.request).then((res) => {
    const copy = res.clone();
    caches.open(CACHE).then((c) => c.put(e.request, copy)).catch(() => {});
    return res;
  }).catch(() => caches.match(e.request, { ignoreSearch: true })));
});
