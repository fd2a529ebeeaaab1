//! `memcmp` for WebAssembly, eight bytes at a time.
//!
//! On `wasm32-unknown-unknown` the `memcmp` that Rust links (from `compiler-builtins`) compares
//! byte by byte. Every comparison of two strings ends there: sorting ids, `BTreeMap` look-ups
//! and `==` between `String`s. In a warm profile of the worker at 5,000 nodes it had 18-40 ms of
//! self time, most of it in the model build; ids share long prefixes (`eni-0…`, `sg-0…`), so
//! each comparison walks a dozen bytes or more. This one compares words and finds the first
//! differing byte of a word with one count of trailing zeros. Natively the system's `memcmp` is
//! already vectorised, so this is compiled for wasm32 only; [`compare`] itself is plain Rust and
//! tested on both.

/// `memcmp`'s result for two slices of the same length: negative, zero or positive as the first
/// byte that differs is smaller in `a`, absent, or greater in `a` (bytes compared unsigned).
pub fn compare(a: &[u8], b: &[u8]) -> i32 {
    let (mut wa, mut wb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut wa).zip(&mut wb) {
        let x = <[u8; 8]>::try_from(x).map_or(0, u64::from_le_bytes);
        let y = <[u8; 8]>::try_from(y).map_or(0, u64::from_le_bytes);
        if x != y {
            // Little-endian: the first byte in memory is the lowest, and the lowest set bit of
            // the difference lies in the first byte that differs.
            let shift = (x ^ y).trailing_zeros() & !7;
            return i32::from((x >> shift) as u8) - i32::from((y >> shift) as u8);
        }
    }
    for (x, y) in wa.remainder().iter().zip(wb.remainder()) {
        if x != y {
            return i32::from(*x) - i32::from(*y);
        }
    }
    0
}

/// The C `memcmp` every comparison of byte slices and strings calls in WebAssembly. It takes the
/// place of `compiler-builtins`' definition, which is weak.
///
/// # Safety
/// As C's: `a` and `b` each point to `n` readable bytes.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, reason = "the C ABI function the compiler calls for every byte comparison")]
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    if n == 0 {
        // The pointers of empty slices may dangle, or be null from C.
        return 0;
    }
    // SAFETY: the caller guarantees `n` readable bytes at each non-null pointer; bytes need no
    // alignment, and the slices live only for this call.
    let (a, b) = unsafe { (std::slice::from_raw_parts(a, n), std::slice::from_raw_parts(b, n)) };
    compare(a, b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, reason = "tests fail loudly")]
    use super::compare;

    /// What `memcmp` is: the first differing byte, compared unsigned.
    fn reference(a: &[u8], b: &[u8]) -> i32 {
        a.iter().zip(b).find(|(x, y)| x != y).map_or(0, |(x, y)| i32::from(*x) - i32::from(*y))
    }

    /// Every length up to three words, with one byte changed at every offset to a smaller, a
    /// greater and a high (non-ASCII) value: the sign and the value agree with the reference.
    #[test]
    fn agrees_with_a_byte_by_byte_comparison() {
        let mut checked = 0;
        for n in 0..=24usize {
            let a: Vec<u8> = (0..n).map(|i| b"eni-0123456789abcdef-xyz"[i % 24]).collect();
            assert_eq!(compare(&a, &a), 0);
            for at in 0..n {
                for v in [0u8, 1, a[at].wrapping_sub(1), a[at].wrapping_add(1), 0x7f, 0x80, 0xff] {
                    let mut b = a.clone();
                    b[at] = v;
                    // A second change later must not matter.
                    if at + 1 < n {
                        b[n - 1] ^= 0x55;
                    }
                    assert_eq!(compare(&a, &b), reference(&a, &b), "{a:?} {b:?}");
                    assert_eq!(compare(&b, &a), reference(&b, &a), "{b:?} {a:?}");
                    checked += 2;
                }
            }
        }
        assert_eq!(checked, 4_200);
    }
}
