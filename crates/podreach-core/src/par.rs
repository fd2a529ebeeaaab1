//! How the core runs two independent pieces of work. The core never starts a thread itself (it
//! also runs in a browser worker, where it cannot): an edge that can, passes a [`Join`] that
//! does, and the core's results are the same whichever `Join` runs them.

/// Runs `a` and `b`, in any order or at the same time, and returns both results.
pub trait Join: Sync {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send;
}

/// One after the other, on the calling thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequential;

impl Join for Sequential {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        let ra = a();
        (ra, b())
    }
}
