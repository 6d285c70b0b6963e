//! Opening event inputs: a file (gzip-compressed CloudTrail log files are detected by their
//! magic bytes) or `-` for stdin, as a buffered byte stream for the streaming record reader.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use thiserror::Error;

/// Why an input could not be opened.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("cannot open `{path}`: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
}

/// Opens `path` (or stdin for `-`), transparently gunzipping `.gz` content.
pub fn open(path: &Path) -> Result<Box<dyn Read>, InputError> {
    let raw: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = File::open(path).map_err(|source| InputError::Open {
            path: path.display().to_string(),
            source,
        })?;
        Box::new(f)
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let is_gzip = buffered
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    if is_gzip {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(buffered)))
    } else {
        Ok(Box::new(buffered))
    }
}
