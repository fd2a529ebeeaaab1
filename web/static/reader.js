// Reads the files the page chose and moves their bytes to the analysis worker, so that the page's
// main thread never reads them: reading a file of hundreds of MB there made main-thread tasks of
// 50-130 ms (BENCHMARKS.md item 47). The page first sends one end of a channel whose other end the
// analysis worker holds, then one message per run: its files, largest first. Each file is read
// whole and its bytes are moved (not copied) to the worker as soon as they are read, so the worker
// parses one file while the next is read. While a file is read, the reader tells the worker how
// far it has got (the browser's progress events, about every 50 ms), for the page's progress bar.
// The messages are the worker's `Request::Read` and `Request::Bytes`.
let port = null;

onmessage = async (e) => {
  if (e.data && e.data.connect) {
    port = e.ports[0];
    return;
  }
  const { run, files } = e.data;
  for (const { id, file } of files) {
    let bytes;
    let error = null;
    try {
      bytes = new Uint8Array(await read(file, (read) => port.postMessage({ Read: { run, id, read } })));
    } catch (err) {
      bytes = new Uint8Array(0);
      error = String(err && err.message ? err.message : err);
    }
    port.postMessage({ Bytes: { run, id, bytes, error } }, [bytes.buffer]);
  }
};

// The file's bytes, with `progress(bytes read)` called as they are read. (A `FileReader` reads a
// file as fast as `Blob.arrayBuffer()`, which has no progress: 119-196 ms against 115-227 ms for
// the 57 MB of ENIs at 5,000 nodes, five rounds each, BENCHMARKS.md item 48.)
function read(file, progress) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onprogress = (p) => {
      if (p.loaded < file.size) progress(p.loaded);
    };
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(file);
  });
}
