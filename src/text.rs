//! Text helpers shared across layers: positions in input text (byte offsets to 1-based line
//! and column, for every parser of the crate: metadata XML, rule files, the config file;
//! columns count characters, not bytes) and short SHA-256 digests in hex.
//!
//! Linear in the input whatever its shape: line starts are found once, and characters are
//! counted from a prefix table kept every [`BLOCK`] bytes, so a position costs at most one
//! block's scan — a one-line (minified) file of megabytes costs no more per position than a
//! pretty-printed one.

/// Bytes between two entries of the character-count table.
const BLOCK: usize = 1024;

/// Maps byte offsets to 1-based line and column. LF, CRLF and a lone CR each end a line
/// (XML end-of-line handling; TOML has no lone CR, so its positions are the same).
#[derive(Debug)]
pub struct LineIndex<'a> {
    bytes: &'a [u8],
    /// Byte offset of each line's start.
    starts: Vec<usize>,
    /// `chars[i]`: characters (UTF-8 leading bytes) in `bytes[..i * BLOCK]`.
    chars: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        let mut starts = vec![0];
        let mut i = 0;
        while let Some(found) = bytes[i..].iter().position(|&c| c == b'\n' || c == b'\r') {
            let at = i + found;
            // CRLF is one line break; a lone CR is one too.
            i = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                at + 2
            } else {
                at + 1
            };
            starts.push(i);
            if i >= bytes.len() {
                break;
            }
        }
        let mut chars = Vec::with_capacity(bytes.len() / BLOCK + 1);
        let mut total = 0;
        chars.push(0);
        for block in bytes.chunks(BLOCK) {
            total += count_chars(block);
            chars.push(total);
        }
        LineIndex {
            bytes,
            starts,
            chars,
        }
    }

    /// Characters in `bytes[..offset]`.
    fn chars_before(&self, offset: usize) -> usize {
        let block = offset / BLOCK;
        self.chars.get(block).copied().unwrap_or_default()
            + count_chars(&self.bytes[block * BLOCK..offset])
    }

    /// 1-based (line, column) of a byte offset; offsets past the end clamp to the end.
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let (line, column) = self.position_usize(offset);
        (to_u32(line), to_u32(column))
    }

    /// [`LineIndex::position`] as `usize`s.
    pub fn position_usize(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.bytes.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self.chars_before(offset) - self.chars_before(start) + 1;
        (line, column)
    }
}

/// 1-based line and column of a byte offset in a text (one-off; build a [`LineIndex`] for
/// many positions in the same text).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text.as_bytes()).position_usize(offset)
}

/// The first `bytes` bytes of the SHA-256 of `input`, in lowercase hex (fingerprints).
pub fn sha256_hex(input: &[u8], bytes: usize) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let digest = Sha256::digest(input);
    let mut hex = String::with_capacity(bytes * 2);
    for b in digest.iter().take(bytes) {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// Characters in a byte slice: every byte that is not a UTF-8 continuation byte.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let idx = LineIndex::new("ab\r\nc\u{e9}d\ne".as_bytes());
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(4), (2, 1));
        // 'd' follows a two-byte character: column 3, not 4.
        assert_eq!(idx.position(7), (2, 3));
        assert_eq!(idx.position(9), (3, 1));
        assert_eq!(idx.position(999), (3, 2));
        assert_eq!(line_col("ab\ncé\nx", 7), (3, 1));
        assert_eq!(line_col("ab\ncé\nx", 6), (2, 3));
        assert_eq!(line_col("ab\ncé", 4), (2, 2));
    }

    #[test]
    #[allow(clippy::naive_bytecount)] // the plain count is the reference the index must match
    fn long_lines_agree_with_a_plain_count() {
        let line: String = "é<a>x</a>".repeat(700);
        let text = format!("first\n{line}\n{line}");
        let idx = LineIndex::new(text.as_bytes());
        for offset in (0..text.len()).step_by(97) {
            let before = &text.as_bytes()[..offset];
            let line_no = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            let column = count_chars(&text.as_bytes()[start..offset]) + 1;
            assert_eq!(
                idx.position(offset),
                (to_u32(line_no), to_u32(column)),
                "offset {offset}"
            );
        }
    }
}
