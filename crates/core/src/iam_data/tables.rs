//! The IAM tables as `crates/core/build.rs` writes them at compile time: rows of
//! tab-separated fields in static text, found through a static hash index. Nothing is parsed
//! or built at run time; a lookup hashes the key, probes the index and reads the rows it
//! finds.

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

    /// The rows whose key is `key`, in table order. A key is given as parts that the tabs
    /// between key fields join (`["s3", "GetObject"]` or `["s3\tGetObject"]`), so a caller
    /// need not build it.
    pub(super) fn find(&self, key: &[&str]) -> impl Iterator<Item = &'static str> + '_ {
        let first = self.first_row(key);
        // The key as the first row writes it, so the iterator does not borrow `key`.
        let len = key
            .iter()
            .map(|part| part.len() + 1)
            .sum::<usize>()
            .saturating_sub(1);
        let key = first.map_or("", |i| self.row(i).get(..len).unwrap_or_default());
        let rows = first.map_or(0..0, |i| i..self.starts.len().saturating_sub(1));
        rows.map(|i| self.row(i))
            .take_while(move |row| self.has_key(row, &[key]))
    }

    /// The first row whose key is `key` (given as for [`Table::find`]).
    pub(super) fn get(&self, key: &[&str]) -> Option<&'static str> {
        Some(self.row(self.first_row(key)?))
    }

    /// The index of the first row whose key is `key`.
    fn first_row(&self, key: &[&str]) -> Option<usize> {
        let tabs: usize = key.iter().map(|part| part.matches('\t').count()).sum();
        if tabs + key.len() != usize::from(self.key_fields) || self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = slot(key_hash(key), self.slots.len());
        for _ in 0..self.slots.len() {
            let row = usize::try_from(*self.slots.get(i)?).ok()?.checked_sub(1)?;
            if self.has_key(self.row(row), key) {
                return Some(row);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Whether `row` has the key `key`, which has as many fields as the table's keys (so the
    /// row's key is `key` if the row starts with it and a field ends there).
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

/// FNV-1a (64 bits) of the ASCII-lowercase bytes of a key (its parts joined by tabs); as
/// `build.rs`.
fn key_hash(key: &[&str]) -> u64 {
    let byte =
        |h: u64, b: u8| (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3);
    let mut h = 0xcbf2_9ce4_8422_2325;
    for (i, part) in key.iter().enumerate() {
        if i > 0 {
            h = byte(h, b'\t');
        }
        h = part.bytes().fold(h, byte);
    }
    h
}

/// The home slot of a hash in a table of `size` slots (a power of two); as `build.rs`.
fn slot(hash: u64, size: usize) -> usize {
    ((hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize) & (size - 1)
}

/// The `N` first fields of a row; missing ones are empty.
pub(super) fn fields<const N: usize>(row: &'static str) -> [&'static str; N] {
    let mut out = [""; N];
    for (slot, value) in out.iter_mut().zip(row.split('\t')) {
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
