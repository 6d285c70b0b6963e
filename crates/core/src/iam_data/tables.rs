//! The IAM tables as `crates/core/build.rs` writes them at compile time: rows of
//! tab-separated fields in static text, found through a static hash index. Nothing is parsed
//! or built at run time; a lookup hashes the key, probes the index and reads the rows it
//! finds.

use super::{key_hash, slot};

/// One keyed table: rows of tab-separated fields, the rows of one key consecutive (see
/// `build.rs`).
pub(super) struct Table {
    /// The rows, each ended by `\n`.
    text: &'static str,
    /// How many leading fields of a row form its key.
    key_fields: u8,
    /// Whether keys compare ASCII-case-insensitively.
    case_insensitive: bool,
    /// Byte offset in `text` where each row starts, then the length of `text`.
    starts: &'static [u32],
    /// Open addressing with linear probing, a power of two long: the index + 1 of the first
    /// row of a key, at or after the key's home slot; 0 for an empty slot.
    slots: &'static [u32],
}

impl Table {
    /// The number of rows.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Row `i` without its newline; empty past the end.
    fn row(&self, i: usize) -> &'static str {
        let (Some(&start), Some(&end)) = (self.starts.get(i), self.starts.get(i + 1)) else {
            return "";
        };
        let (start, end) = (start as usize, (end as usize).saturating_sub(1));
        self.text.get(start..end).unwrap_or_default()
    }

    /// The rows whose key is `key`, in table order, each as (its key as the table writes it,
    /// the fields after the key: empty when there are none). A key is given as its fields
    /// (`["s3", "GetObject"]`), so a caller need not join them.
    pub(super) fn find(
        &self,
        key: &[&str],
    ) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        let first = self.first_row(key);
        let len = key_len(key);
        // The key as the first row writes it, so the iterator does not borrow `key`.
        let key = first.map_or("", |i| self.row(i).get(..len).unwrap_or_default());
        let rows = first.map_or(0..0, |i| i..self.starts.len().saturating_sub(1));
        rows.map(|i| self.row(i))
            .take_while(move |row| row.starts_with(key) && ends_field(row, len))
            .map(move |row| split_key(row, len))
    }

    /// The first row whose key is `key`, as [`Table::find`] gives it.
    pub(super) fn get(&self, key: &[&str]) -> Option<(&'static str, &'static str)> {
        Some(split_key(self.row(self.first_row(key)?), key_len(key)))
    }

    /// The index of the first row whose key is `key`.
    fn first_row(&self, key: &[&str]) -> Option<usize> {
        // A key field never holds a tab, so such a key matches nothing.
        let tab = |part: &&str| part.bytes().any(|b| b == b'\t');
        if key.len() != usize::from(self.key_fields) || key.iter().any(tab) {
            return None;
        }
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = slot(key_hash(key.iter().copied()), self.slots.len());
        for _ in 0..self.slots.len() {
            let row = usize::try_from(*self.slots.get(i)?).ok()?.checked_sub(1)?;
            if self.has_key(self.row(row), key) {
                return Some(row);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Whether `row` has the key `key`, whose fields hold no tab and are as many as the
    /// table's key fields (so the row's key is `key` if the row starts with it and a field
    /// ends there).
    fn has_key(&self, row: &str, key: &[&str]) -> bool {
        let mut rest = row.as_bytes();
        for (i, part) in key.iter().enumerate() {
            if i > 0 {
                let Some((b'\t', after)) = rest.split_first() else {
                    return false;
                };
                rest = after;
            }
            let Some((head, after)) = rest.split_at_checked(part.len()) else {
                return false;
            };
            let same = if self.case_insensitive {
                head.eq_ignore_ascii_case(part.as_bytes())
            } else {
                head == part.as_bytes()
            };
            if !same {
                return false;
            }
            rest = after;
        }
        matches!(rest.first(), None | Some(b'\t'))
    }
}

/// The length of a key given as its fields, joined by tabs.
fn key_len(key: &[&str]) -> usize {
    key.iter()
        .map(|part| part.len() + 1)
        .sum::<usize>()
        .saturating_sub(1)
}

/// Whether a field of `row` ends at byte `len`.
fn ends_field(row: &str, len: usize) -> bool {
    matches!(row.as_bytes().get(len), None | Some(b'\t'))
}

/// A row whose key is `len` bytes long, as (key, the fields after it).
fn split_key(row: &'static str, len: usize) -> (&'static str, &'static str) {
    let key = row.get(..len).unwrap_or_default();
    let rest = row.get(len + 1..).unwrap_or_default();
    (key, rest)
}

/// `fields` (tab-separated) cut into `N`: the `N - 1` first fields, then the rest (the last
/// field when there are `N`, whose end is then not searched for); missing ones are empty.
pub(super) fn fields<const N: usize>(fields: &'static str) -> [&'static str; N] {
    let mut out = [""; N];
    for (slot, value) in out.iter_mut().zip(fields.splitn(N, '\t')) {
        *slot = value;
    }
    out
}

/// The generated tables (`OUT_DIR/iam_tables.rs`, written by `crates/core/build.rs`).
mod generated {
    use super::Table;

    include!(concat!(env!("OUT_DIR"), "/iam_tables.rs"));
}

pub(super) use generated::{
    ACTIONS, CONDITION_KEYS, CONDITION_TEMPLATES, EVENTS, PERMISSIONLESS, RESOURCE_TYPES, SERVICES,
    SOURCES,
};
