//! Opening event inputs: a file (gzip-compressed CloudTrail log files are detected by their
//! magic bytes) or `-` for stdin, as a buffered byte stream for the streaming record reader;
//! [`open_counting`] also reports the bytes read from the file itself (compressed, for a `.gz`),
//! for a progress bar measured against [`file_size`]. [`s3`] reads the objects of an S3 prefix.

pub mod s3;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use thiserror::Error;

/// Why an input could not be opened.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("cannot open `{path}`")]
    Open {
        path: String,
        source: std::io::Error,
    },
}

/// Opens `path` (or stdin for `-`), transparently gunzipping `.gz` content.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, InputError> {
    Ok(decoded(raw(path)?))
}

/// [`open`], calling `on_read` with the number of bytes of each read from the file (or stdin)
/// before any decompression, so the total is comparable with [`file_size`].
pub fn open_counting(
    path: &Path,
    on_read: impl FnMut(usize) + Send + 'static,
) -> Result<Box<dyn Read + Send>, InputError> {
    Ok(decoded(Box::new(CountingRead {
        inner: raw(path)?,
        on_read,
    })))
}

/// Bytes already in memory (an S3 object), gunzipped when they are gzip.
pub fn from_bytes(bytes: Vec<u8>) -> Box<dyn Read + Send> {
    decoded(Box::new(std::io::Cursor::new(bytes)))
}

/// The size in bytes of `path` when it is a regular file; `None` for stdin (`-`), a pipe or a
/// device, or when it cannot be read.
pub fn file_size(path: &Path) -> Option<u64> {
    if path.as_os_str() == "-" {
        return None;
    }
    let meta = std::fs::metadata(path).ok()?;
    meta.is_file().then_some(meta.len())
}

/// The file (or stdin) itself, unbuffered.
fn raw(path: &Path) -> Result<Box<dyn Read + Send>, InputError> {
    if path.as_os_str() == "-" {
        // Buffered by `decoded`: each read takes stdin's lock once.
        return Ok(Box::new(std::io::stdin()));
    }
    let f = File::open(path).map_err(|source| InputError::Open {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Box::new(f))
}

/// `raw` buffered, and gunzipped when it starts with gzip's magic bytes.
fn decoded(raw: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let is_gzip = buffered
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    if is_gzip {
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    }
}

/// A reader that hands the length of every successful read to `on_read`.
struct CountingRead<R, F> {
    inner: R,
    on_read: F,
}

impl<R: Read, F: FnMut(usize)> Read for CountingRead<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.on_read)(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn counting_sees_the_bytes_of_the_file_and_the_reader_the_decompressed_content() {
        let text = br#"{"Records": []}"#.repeat(10_000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        let compressed = gz.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.json.gz");
        std::fs::write(&path, &compressed).unwrap();

        let counted = Arc::new(AtomicUsize::new(0));
        let sink = Arc::clone(&counted);
        let mut reader = open_counting(&path, move |n| {
            sink.fetch_add(n, Ordering::Relaxed);
        })
        .unwrap();
        let mut content = Vec::new();
        reader.read_to_end(&mut content).unwrap();

        assert_eq!(content, text);
        assert_eq!(counted.load(Ordering::Relaxed), compressed.len());
        assert_eq!(file_size(&path), Some(compressed.len() as u64));
    }

    #[test]
    fn stdin_and_folders_have_no_size() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(file_size(Path::new("-")), None);
        assert_eq!(file_size(dir.path()), None);
        assert_eq!(file_size(&dir.path().join("missing")), None);
    }
}
