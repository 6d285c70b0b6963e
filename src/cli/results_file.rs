//! `analyze --output-file`: `{"Results": [...]}` written one result at a time (pretty-printed),
//! so a large batch is never held in memory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub(super) struct ResultsFile {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    written: usize,
}

impl ResultsFile {
    pub(super) fn create(path: &Path) -> anyhow::Result<ResultsFile> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        out.write_all(b"{\n  \"Results\": [")
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        Ok(ResultsFile {
            path: path.to_path_buf(),
            out,
            written: 0,
        })
    }

    pub(super) fn push<T: serde::Serialize>(&mut self, result: &T) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(result)?;
        let sep = if self.written == 0 { "\n" } else { ",\n" };
        let indented = text.replace('\n', "\n    ");
        write!(self.out, "{sep}    {indented}")
            .with_context(|| format!("cannot write `{}`", self.path.display()))?;
        self.written += 1;
        Ok(())
    }

    pub(super) fn finish(mut self) -> anyhow::Result<()> {
        let end: &[u8] = if self.written == 0 {
            b"]\n}\n"
        } else {
            b"\n  ]\n}\n"
        };
        self.out
            .write_all(end)
            .and_then(|()| self.out.flush())
            .with_context(|| format!("cannot write `{}`", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_results_object_one_result_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        let mut file = ResultsFile::create(&path).unwrap();
        file.push(&serde_json::json!({"EventId": "a"})).unwrap();
        file.push(&serde_json::json!({"EventId": "b"})).unwrap();
        file.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back,
            serde_json::json!({"Results": [{"EventId": "a"}, {"EventId": "b"}]})
        );

        let empty = dir.path().join("empty.json");
        ResultsFile::create(&empty).unwrap().finish().unwrap();
        let text = std::fs::read_to_string(&empty).unwrap();
        assert_eq!(text, "{\n  \"Results\": []\n}\n");
    }
}
