/// A message that can be held in a [`MessageBuffer`](crate::MessageBuffer).
///
/// The buffer uses [`byte_len`](Self::byte_len) to enforce its byte bound.
/// The value must not change while the item is buffered, or the buffer's
/// byte count drifts.
pub trait BufferItem {
    /// Size of the message in bytes, as counted against the byte bound.
    fn byte_len(&self) -> usize;
}

impl BufferItem for String {
    fn byte_len(&self) -> usize {
        self.len()
    }
}

impl BufferItem for Vec<u8> {
    fn byte_len(&self) -> usize {
        self.len()
    }
}

impl BufferItem for Box<[u8]> {
    fn byte_len(&self) -> usize {
        self.len()
    }
}

impl BufferItem for &'static str {
    fn byte_len(&self) -> usize {
        self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_len_counts_utf8_bytes_not_chars() {
        assert_eq!(String::from("héllo").byte_len(), 6);
        assert_eq!("€".byte_len(), 3);
        assert_eq!(vec![0u8; 7].byte_len(), 7);
        assert_eq!(vec![1u8, 2, 3].into_boxed_slice().byte_len(), 3);
        assert_eq!(String::new().byte_len(), 0);
    }
}
