// Reads the files the page chose and moves their bytes to the analysis worker, so that the page's
// main thread never reads them: reading a file of hundreds of MB there made main-thread tasks of
// 50-130 ms (BENCHMARKS.md item 47). The page first sends one end of a channel whose other end the
// analysis worker holds, then one message per run: its files, largest first. Each file is read
// whole and its bytes are moved (not copied) to the worker as soon as they are read, so the worker
// parses one file while the next is read. The bytes message is the worker's `Request::Bytes`.
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
      bytes = new Uint8Array(await file.arrayBuffer());
    } catch (err) {
      bytes = new Uint8Array(0);
      error = String(err && err.message ? err.message : err);
    }
    port.postMessage({ Bytes: { run, id, bytes, error } }, [bytes.buffer]);
  }
};
