//! Browser IO adapters, and the only code that calls browser APIs: the worker on both sides,
//! local storage, file reading, downloads, the clipboard, the URL fragment and timing marks.

pub mod browser;
pub mod storage;
pub mod worker;
