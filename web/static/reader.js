// Reads the files the page chose and moves their bytes to the analysis worker, so that the page's
// main thread never reads them: reading a file of hundreds of MB there made main-thread tasks of
// 50-130 ms (BENCHMARKS.md item 47). The page first sends one end of a channel whose other end the
// analysis worker holds, then one message per run: its files, largest first. A file is read in
// slices of at most `SLICE_BYTES`, up to `LANES` at once (the 57 MB of ENIs at 5,000 nodes in
// four slices read together took 97-111 ms against 129-148 ms read whole, and less CPU: item 52),
// and each slice's bytes are moved (not copied) to the worker as soon as they are read; the
// worker puts them together and parses the file while the next is read. While a file is read,
// the reader tells the worker how far it has got (the browser's progress events, about every
// 50 ms, and each slice once it is read: a slice read in less than that has no event of its
// own), for the page's progress bar. The messages are the worker's `Request::Read` and
// `services::worker::Bytes`.
const SLICE_BYTES = 16 << 20;
const LANES = 4;
let port = null;

onmessage = async (e) => {
  if (e.data && e.data.connect) {
    port = e.ports[0];
    return;
  }
  const { run, files } = e.data;
  for (const { id, file } of files) {
    await send(run, id, file);
  }
};

// Reads `file` in slices and posts each slice's bytes with its offset, or, if a slice cannot be
// read, why (then the worker fails the run).
async function send(run, id, file) {
  const count = Math.max(1, Math.ceil(file.size / SLICE_BYTES));
  const step = Math.ceil(file.size / count);
  const loaded = new Array(count).fill(0);
  const progress = () => port.postMessage({ Read: { run, id, read: loaded.reduce((a, b) => a + b, 0) } });
  let next = 0;
  let error = null;
  const lane = async () => {
    while (next < count && error === null) {
      const k = next++;
      const offset = k * step;
      const blob = file.slice(offset, Math.min(file.size, offset + step));
      try {
        const bytes = new Uint8Array(await read(blob, (read) => { loaded[k] = read; progress(); }));
        loaded[k] = blob.size;
        progress();
        port.postMessage({ Bytes: { run, id, offset, bytes, error: null } }, [bytes.buffer]);
      } catch (err) {
        error = String(err && err.message ? err.message : err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LANES, count) }, lane));
  if (error !== null) {
    port.postMessage({ Bytes: { run, id, offset: 0, bytes: new Uint8Array(0), error } });
  }
}

// The blob's bytes, with `progress(bytes read)` called as they are read. (A `FileReader` reads a
// file as fast as `Blob.arrayBuffer()`, which has no progress: 119-196 ms against 115-227 ms for
// the 57 MB of ENIs at 5,000 nodes, five rounds each, BENCHMARKS.md item 48.)
function read(blob, progress) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onprogress = (p) => {
      if (p.loaded < blob.size) progress(p.loaded);
    };
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(blob);
  });
}
