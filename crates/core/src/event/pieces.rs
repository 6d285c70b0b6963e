//! For the reader's tests and the fuzz crate, not for use: an input that hands out its bytes in
//! pieces of given sizes (cycled), as a pipe or a socket may, so a test can cut records, strings
//! and escapes at every place a read can end.

use std::io::Read;

/// `data` read `sizes[0]` bytes, then `sizes[1]`, … (cycled; a size of 0 ends the input).
#[doc(hidden)]
pub struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [usize],
    n: usize,
}

impl<'a> Pieces<'a> {
    pub fn new(data: &'a [u8], sizes: &'a [usize]) -> Self {
        Pieces { data, sizes, n: 0 }
    }
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // No sizes: everything at once.
        let want = self
            .sizes
            .get(self.n % self.sizes.len().max(1))
            .copied()
            .unwrap_or(usize::MAX);
        self.n += 1;
        let k = want.min(buf.len()).min(self.data.len());
        let (now, later) = self.data.split_at(k);
        buf[..k].copy_from_slice(now);
        self.data = later;
        Ok(k)
    }
}
