//! The size of a WebAssembly module's largest function body: the worker's budget for it keeps the
//! phases of a run apart (BENCHMARKS.md item 40).

/// The largest function body in `module`, in bytes.
pub fn largest_function(module: &[u8]) -> Result<usize, String> {
    let mut r = Reader { bytes: module, at: 8 };
    if module.get(..4) != Some(b"\0asm".as_slice()) {
        return Err("not a wasm module".into());
    }
    let mut largest = 0;
    while r.at < module.len() {
        let id = r.byte()?;
        let len = r.leb()?;
        let end = r.at.checked_add(len).filter(|&e| e <= module.len()).ok_or("a section runs past the end")?;
        if id == 10 {
            for _ in 0..r.leb()? {
                let body = r.leb()?;
                largest = largest.max(body);
                r.at = r.at.checked_add(body).filter(|&e| e <= end).ok_or("a function body runs past its section")?;
            }
        }
        r.at = end;
    }
    Ok(largest)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = self.bytes.get(self.at).copied().ok_or("the module ends early")?;
        self.at += 1;
        Ok(b)
    }

    /// An unsigned LEB128 number of at most 32 bits.
    fn leb(&mut self) -> Result<usize, String> {
        let mut value = 0usize;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            value |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number in the module is too long".into())
    }
}

#[cfg(test)]
mod tests {
    use super::largest_function;

    /// A module with a type section and a code section holding bodies of the given sizes.
    fn module(bodies: &[usize]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([1, 4, 1, 0x60, 0, 0]); // one type: () -> ()
        let mut code = vec![u8::try_from(bodies.len()).unwrap()];
        for &n in bodies {
            // A body of n bytes: its size (LEB128, two bytes when over 127), then n bytes.
            if n < 128 {
                code.push(n as u8);
            } else {
                code.extend([(n & 0x7f) as u8 | 0x80, (n >> 7) as u8]);
            }
            code.extend(std::iter::repeat_n(0x01, n));
        }
        m.push(10);
        let len = code.len();
        m.extend([(len & 0x7f) as u8 | 0x80, (len >> 7) as u8]);
        m.extend(code);
        m
    }

    #[test]
    fn finds_the_largest_body() {
        assert_eq!(largest_function(&module(&[3, 200, 5])), Ok(200));
        assert_eq!(largest_function(&module(&[])), Ok(0));
    }

    #[test]
    fn rejects_what_is_not_a_whole_module() {
        let m = module(&[3, 200]);
        assert_eq!(largest_function(&m[..m.len() - 1]), Err("a section runs past the end".into()));
        assert_eq!(largest_function(&m[..9]), Err("the module ends early".into()));
        assert_eq!(largest_function(b"not wasm"), Err("not a wasm module".into()));
    }
}
