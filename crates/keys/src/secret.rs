//! The plaintext of a data key: held in memory that is zeroed on drop, never shown.

use std::fmt;

use zeroize::Zeroizing;

/// Plaintext key bytes. `Debug` and `Display` print only the length; the bytes are zeroed when
/// the value is dropped. Read them with [`PlaintextKey::expose`] only where they are used.
#[derive(Clone)]
pub struct PlaintextKey(Zeroizing<Vec<u8>>);

impl PlaintextKey {
    /// Take ownership of `bytes` (moved, not copied, so no second copy is left behind).
    pub fn new(bytes: Vec<u8>) -> Self {
        PlaintextKey(Zeroizing::new(bytes))
    }

    /// The key bytes, for the code that encrypts with them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes (32 for AES_256).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether both hold the same bytes, compared without an early exit so the time taken
    /// does not reveal where they differ.
    pub fn same_as(&self, other: &PlaintextKey) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(other.0.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl fmt::Debug for PlaintextKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlaintextKey(<redacted {} bytes>)", self.0.len())
    }
}

impl fmt::Display for PlaintextKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {}-byte data key>", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_bytes() {
        let k = PlaintextKey::new(vec![0xAB; 32]);
        for shown in [format!("{k:?}"), format!("{k}"), format!("{k:#?}")] {
            assert!(!shown.to_lowercase().contains("ab"), "{shown}");
            assert!(!shown.contains("171"), "{shown}");
            assert!(shown.contains("32"), "{shown}");
        }
        assert!(k.same_as(&PlaintextKey::new(vec![0xAB; 32])));
        assert!(!k.same_as(&PlaintextKey::new(vec![0xAB; 31])));
        assert!(!k.same_as(&PlaintextKey::new(vec![0xAC; 32])));
    }
}
