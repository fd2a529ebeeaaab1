//! A fast hasher for the core's internal maps: ids, addresses and signatures from the user's own
//! export. SipHash's resistance to chosen keys buys nothing here and costs a tenth of loading.
//! Nothing iterates these maps (clippy's `iter_over_hash_type` is denied), so the hash never
//! shows in the output.

use std::hash::{BuildHasherDefault, Hasher};

pub type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;
pub type FastSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

/// The multiply-rotate hash of Firefox and rustc: a word at a time.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

const K: u64 = 0xf135_7aea_2e62_a9c5;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(K).rotate_left(26);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(rest) {
                *d = *s;
            }
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    fn h(v: impl Hash) -> u64 {
        let mut s = FxHasher::default();
        v.hash(&mut s);
        s.finish()
    }

    #[test]
    fn distinguishes_close_keys() {
        let keys = ["eni-0a", "eni-0b", "eni-0a\0", "", "sg-1", "sg-10", "12345678", "123456789"];
        let hashes: std::collections::BTreeSet<u64> = keys.iter().map(h).collect();
        assert_eq!(hashes.len(), keys.len());
        let ips: std::collections::BTreeSet<u64> = (0u32..10_000).map(h).collect();
        assert_eq!(ips.len(), 10_000);
    }

    #[test]
    fn maps_work() {
        let mut m: FastMap<String, usize> = FastMap::default();
        for i in 0..1000 {
            m.insert(format!("eni-{i:017}"), i);
        }
        assert_eq!(m.get("eni-00000000000000999"), Some(&999));
        assert_eq!(m.len(), 1000);
    }
}
