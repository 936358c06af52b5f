//! Positions: the protocol counts lines and UTF-16 code units; the checker counts bytes.
//!
//! Every conversion clamps: a position past the end of its line is the line's end, a line past
//! the end of the text is the text's end, and a position inside a surrogate pair or a multi-byte
//! character lands on the character's start. A bad position from a client is therefore never an
//! error and never a panic.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// The byte offset of each line start.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// The index of a text.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// The byte offset of a protocol position (clamped into the text).
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let line = pos.line as usize;
        let Some(&start) = self.starts.get(line) else {
            return text.len();
        };
        let end = self
            .starts
            .get(line + 1)
            .map_or(text.len(), |next| next - 1);
        let mut units = 0u32;
        for (i, c) in text[start..end].char_indices() {
            if units >= pos.character {
                return start + i;
            }
            units += c.len_utf16() as u32;
            if units > pos.character {
                // Inside a surrogate pair: the character's start.
                return start + i;
            }
        }
        end
    }

    /// The protocol position of a byte offset (clamped into the text).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts[line];
        let character = text[start..offset]
            .chars()
            .map(|c| c.len_utf16() as u32)
            .sum();
        Position::new(line as u32, character)
    }

    /// The protocol range of a byte range.
    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range::new(
            self.position(text, start),
            self.position(text, end.max(start)),
        )
    }
}

/// Applies one change of `didChange` (a range edit, or the whole text when it has no range).
pub fn apply_change(text: &mut String, change: TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let index = LineIndex::new(text);
            let start = index.offset(text, range.start);
            let end = index.offset(text, range.end).max(start);
            text.replace_range(start..end, &change.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_round_trip_over_non_ascii_text() {
        let text = "a € b\nc ≥ 5 é 𝄞 x\n";
        let index = LineIndex::new(text);
        // `b` is after `a`, space, `€` (1 unit), space: character 4.
        let b = text.find('b').unwrap_or_default();
        assert_eq!(index.position(text, b), Position::new(0, 4));
        assert_eq!(index.offset(text, Position::new(0, 4)), b);
        // `x` follows `𝄞`, which takes two UTF-16 units.
        let x = text.find('x').unwrap_or_default();
        assert_eq!(index.position(text, x), Position::new(1, 11));
        assert_eq!(index.offset(text, Position::new(1, 11)), x);
        // Inside the surrogate pair: the character's start.
        let clef = text.find('𝄞').unwrap_or_default();
        assert_eq!(index.offset(text, Position::new(1, 9)), clef);
        // Past the line's end and past the last line: clamped.
        assert_eq!(index.offset(text, Position::new(0, 99)), 7);
        assert_eq!(index.offset(text, Position::new(99, 0)), text.len());
        // An offset inside `€` goes back to its start.
        assert_eq!(index.position(text, 3), Position::new(0, 2));
    }

    #[test]
    fn incremental_changes_edit_by_utf16_range() {
        let mut text = "rate ≥ 12,5%\n".to_string();
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(0, 9), Position::new(0, 10))),
            range_length: None,
            text: ".".to_string(),
        };
        apply_change(&mut text, change);
        assert_eq!(text, "rate ≥ 12.5%\n");
    }
}
