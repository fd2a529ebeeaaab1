// Reads the files the page chose and moves their bytes to the analysis worker, so that the page's
// main thread never reads them: reading a file of hundreds of MB there made main-thread tasks of
// 50-130 ms (BENCHMARKS.md item 47). The page first sends one end of a channel whose other end the
// analysis worker holds, then one message per run: its files, largest first. A file is read in
// slices of at most `SLICE_BYTES`, up to `LANES` at once (the 57 MB of ENIs at 5,000 nodes in
// four slices read together took 97-111 ms against 129-148 ms read whole, and less CPU: item 52),
// and each slice's bytes are moved (not copied) to the worker as soon as they are read; the
// worker puts them together and parses the file while the next is read. While a file is read,
// the reader tells the worker how far it has got (after each part of a slice it moves), for the
// page's progress bar. The messages are the worker's `Request::Read` and
// `services::worker::Bytes`.
//
// A slice's bytes are read in parts of `PART_BYTES` into a few buffers that the worker sends back
// (`Recycle`) once it has copied their bytes, and read into again: a buffer the browser makes
// afresh for each slice costs a page fault per 4 KB on its first write, 23,000 faults and
// 80-90 ms of the reader's CPU for the 94.5 MB at 5,000 nodes, on two cores the run keeps busy
// (BENCHMARKS.md item 65). A buffer that is not back in time is replaced by a fresh one, so a
// worker that drops one (a second worker stopped) never holds up the reading. Where a browser
// cannot read a file's stream into a given buffer, each slice is read whole, as before, and so is
// the rest of a slice whose stream stops giving bytes (`STALL_MS`).
//
// When the page says a run may use the second worker (`helper`: the files are large and it is
// ready), the largest file that begins as a kubectl list of pods goes to the second worker
// instead, read in its turn; it parses the file and hands the analysis worker
// the result (`services::worker::serve_helper`). Progress still goes to the analysis worker. The
// guess from a file's first bytes only picks where the file is parsed: a file that holds anything
// else comes back to the analysis worker whole. If the second worker fails, the page says so
// (`helperLost`) and the file given to it is sent to the analysis worker; a fresh second worker
// the page starts after a run sends its own channel, which replaces the one before. Once the
// second worker has a file whole, it has `handedWithin` its size to send the analysis worker what
// it made of it and say so (`Handed`); one that has not by then is taken for stuck (it said
// nothing, as one in an endless loop would): the reader tells the page (`helperStuck`), which
// stops it as it stops one that failed.
const SLICE_BYTES = 16 << 20;
const LANES = 4;
// Files smaller than this are parsed in the analysis worker in less time than the hand-over saves.
const HELP_MIN_BYTES = 4 << 20;
let port = null;
let helperPort = null;
// The file of the newest run given to the second worker ({ run, file, lost, to, timer }), until it
// says it has handed it over: if the second worker stops, the file is sent again, to the analysis
// worker.
let given = null;

// How long the second worker may take, once it has a file whole, to hand it over: 5 s and 1 ms
// per 5 KB. That is 10 s for the 25 MB of pods at 5,000 nodes, which it hands over in 0.15-0.3 s,
// and 56 s for the 255 MB at 50,000 nodes (2-3 s): a slow machine is not taken for a stuck one.
const HANDED_BASE_MS = 5000;
const HANDED_BYTES_PER_MS = 5000;
const handedWithin = (bytes) => HANDED_BASE_MS + bytes / HANDED_BYTES_PER_MS;

onmessage = async (e) => {
  if (e.data && e.data.connect) {
    port = e.ports[0];
    port.onmessage = recycled;
    return;
  }
  if (e.data && e.data.helper === true && e.ports.length > 0) {
    // A second worker; a new one replaces the one before (the page starts a fresh one after a run
    // it was offered, to give back its memory).
    helperPort = e.ports[0];
    helperPort.onmessage = fromHelper;
    return;
  }
  if (e.data && e.data.helperLost === true) {
    // The second worker stopped (an error in it), and what it had of its file is lost: the
    // analysis worker takes the file as it takes any other (if the second worker's result reached
    // it first, it drops the bytes).
    helperPort = null;
    const lost = given;
    given = null;
    if (lost !== null) {
      clearTimeout(lost.timer);
      lost.lost = true;
      await send(lost.run, lost.file, port);
    }
    return;
  }
  const { run, files, helper } = e.data;
  const aside = helper && helperPort !== null ? await kubectlPods(files) : null;
  const mine = { run, file: aside, lost: false, to: null, timer: 0 };
  if (aside !== null) {
    if (given !== null) clearTimeout(given.timer);
    given = mine;
  }
  // One at a time, largest first, as without a second worker: read at the same time as the
  // largest, the kubectl export slowed it, and the analysis worker waits for the largest.
  for (const f of files) {
    if (f !== aside) await send(run, f, port);
    // Unless the second worker stopped before its turn: then it has been sent again already.
    else if (!mine.lost) {
      mine.to = helperPort ?? port;
      await send(run, f, mine.to);
      if (given === mine && mine.to === helperPort) watch(mine);
    }
  }
};

// Waits for the second worker to hand over the file `mine` gave it, and tells the page if it does
// not in time (and is still the one it was given to: a fresh one may have taken its place).
function watch(mine) {
  const ms = handedWithin(mine.file.file.size);
  mine.timer = setTimeout(() => {
    if (given === mine && mine.to === helperPort) postMessage({ helperStuck: ms });
  }, ms);
}

// The second worker's messages: buffers back, and that it has handed over its file.
function fromHelper(e) {
  recycled(e);
  const handed = e.data && e.data.Handed;
  if (handed && given !== null && given.run === handed.run && given.file.id === handed.id) {
    clearTimeout(given.timer);
    given = null;
  }
}

// The largest of `files` (largest first) that begins as `kubectl get pods -o json` prints, if any.
async function kubectlPods(files) {
  for (const f of files) {
    if (f.file.size < HELP_MIN_BYTES) return null;
    try {
      const head = await f.file.slice(0, 4096).text();
      if (/"kind"\s*:\s*"(Pod|PodList)"/.test(head)) return f;
    } catch {
      // Unreadable here: `send` says why.
    }
  }
  return null;
}

// Reads `file` in slices and posts each slice's bytes with its offset (and the file's size and
// name, which the second worker needs) to `to`, or, if a slice cannot be read, why (then the
// worker fails the run).
async function send(run, { id, name, file }, to) {
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
      // `recycle`: the worker sends the buffer back once the bytes are copied.
      const post = (at, bytes, recycle) =>
        to.postMessage({ Bytes: { run, id, offset: offset + at, bytes, error: null, size: file.size, name, recycle } }, [bytes.buffer]);
      // The slice's bytes from `at` on, read whole (a browser without BYOB readers, or a stream
      // that stopped); where they end.
      const whole = async (at) => {
        const bytes = new Uint8Array(await read(blob.slice(at), (read) => { loaded[k] = at + read; progress(); }));
        loaded[k] = at + bytes.byteLength;
        progress();
        post(at, bytes, false);
        return at + bytes.byteLength;
      };
      try {
        const stream = byobReader(blob);
        if (stream === null) {
          await whole(0);
          continue;
        }
        let at = 0;
        for (let done = false; !done;) {
          const part = await readPart(stream);
          if (part.stalled) {
            // The stream stopped giving bytes (below): the rest of the slice is read whole.
            stream.cancel().catch(() => {});
            at = await whole(at);
            break;
          }
          done = part.done;
          // Read before the buffer is moved: a moved buffer has no bytes here.
          const length = part.bytes.byteLength;
          if (length === 0) {
            giveBack(part.bytes.buffer);
            continue;
          }
          loaded[k] = at + length;
          progress();
          post(at, part.bytes, true);
          at += length;
        }
        // An empty file has no part: the worker still needs to hear of it.
        if (blob.size === 0) post(0, new Uint8Array(0), false);
        // A file that changed on disk once chosen can end early; the browser says so as a rule.
        else if (at !== blob.size) throw new Error(`only ${at} of its ${blob.size} bytes could be read; choose it again`);
      } catch (err) {
        error = String(err && err.message ? err.message : err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LANES, count) }, lane));
  if (error !== null) {
    to.postMessage({ Bytes: { run, id, offset: 0, bytes: new Uint8Array(0), error, size: file.size, name } });
  }
}

// The blob's bytes, with `progress(bytes read)` called as they are read, where a browser cannot
// read a stream into a given buffer. (A `FileReader` reads a
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

// Reading into buffers that come back (see the top of this file).
const PART_BYTES = 4 << 20;
// Buffers made before any must come back: 24 MB. Each read lane holds one while it reads, and
// the worker may hold a few while it is busy.
const POOL_BUFFERS = 6;
// How long a lane waits for a buffer to come back before it makes a fresh one.
const WAIT_BUFFER_MS = 100;
const pool = [];
const waiting = [];
let made = 0;

// A reader of `blob`'s bytes into buffers it is given, or null if the browser has none.
function byobReader(blob) {
  try {
    return blob.stream().getReader({ mode: 'byob' });
  } catch {
    return null;
  }
}

// How long a read of a slice's stream may give nothing before the rest of the slice is read
// whole. Chromium 156's file streams stopped for good in a cold run at 50,000 nodes (three lanes
// at once, a few hundred MB into the 572 MB of ENIs, with every buffer back in the pool and the
// worker idle: the run waited for ever, BENCHMARKS.md item 66); why is not known. A read of a
// 4 MB part takes milliseconds when the stream moves.
const STALL_MS = 2000;
const STALLED = Symbol('stalled');

// The next part of the stream, up to `PART_BYTES`, in a buffer of the pool: { bytes, done }, or
// { stalled: true } when the stream gave nothing for `STALL_MS` (the part's bytes are lost with
// the buffer the stream holds; the caller reads them again).
async function readPart(stream) {
  let buffer = await takeBuffer();
  let filled = 0;
  while (filled < buffer.byteLength) {
    let timer = 0;
    const stall = new Promise((resolve) => { timer = setTimeout(() => resolve(STALLED), STALL_MS); });
    const next = await Promise.race([stream.read(new Uint8Array(buffer, filled, buffer.byteLength - filled)), stall]);
    clearTimeout(timer);
    if (next === STALLED) return { stalled: true };
    const { value, done } = next;
    // The buffer read into is moved into `value`; a cancelled stream gives none back.
    if (value === undefined) return { bytes: new Uint8Array(0), done: true };
    buffer = value.buffer;
    if (done) return { bytes: new Uint8Array(buffer, 0, filled), done: true };
    filled += value.byteLength;
  }
  return { bytes: new Uint8Array(buffer, 0, filled), done: false };
}

// A buffer of `PART_BYTES`: one that came back, a new one while fewer than `POOL_BUFFERS` are
// made, or the first to come back within `WAIT_BUFFER_MS` (a new one after that).
function takeBuffer() {
  if (pool.length > 0) return Promise.resolve(pool.pop());
  if (made < POOL_BUFFERS) {
    made += 1;
    return Promise.resolve(new ArrayBuffer(PART_BYTES));
  }
  return new Promise((resolve) => {
    const wait = { resolve, timer: 0 };
    wait.timer = setTimeout(() => {
      waiting.splice(waiting.indexOf(wait), 1);
      resolve(new ArrayBuffer(PART_BYTES));
    }, WAIT_BUFFER_MS);
    waiting.push(wait);
  });
}

// A buffer back for the next part: to a lane that waits for one, or to the pool.
function giveBack(buffer) {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== PART_BYTES) return;
  const wait = waiting.shift();
  if (wait !== undefined) {
    clearTimeout(wait.timer);
    wait.resolve(buffer);
  } else if (pool.length < POOL_BUFFERS) {
    pool.push(buffer);
  }
}

function recycled(e) {
  if (e.data && e.data.Recycle instanceof ArrayBuffer) giveBack(e.data.Recycle);
}
