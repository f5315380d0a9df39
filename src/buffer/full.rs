use std::fmt;

/// Why a message did not fit into a [`MessageBuffer`](crate::MessageBuffer).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FullReason {
    /// The buffer already holds its maximum number of messages.
    Count,
    /// The message would push the buffered bytes over the byte bound.
    Bytes,
    /// The message alone is larger than the byte bound; it can never fit.
    TooLarge,
}

impl fmt::Display for FullReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Count => "message count limit reached",
            Self::Bytes => "byte limit would be exceeded",
            Self::TooLarge => "message is larger than the whole byte limit",
        })
    }
}

/// A message refused by [`MessageBuffer::push`](crate::MessageBuffer::push).
///
/// Carries the message back so that nothing is dropped silently: the caller
/// can retry, report or discard it deliberately.
///
/// `Debug` prints only the reason, so this is an [`Error`](std::error::Error)
/// for any message type.
#[derive(thiserror::Error)]
#[error("outbound buffer full: {reason}")]
pub struct BufferFull<T> {
    item: T,
    reason: FullReason,
}

impl<T> BufferFull<T> {
    pub(crate) fn new(item: T, reason: FullReason) -> Self {
        Self { item, reason }
    }

    /// Takes the rejected message back.
    pub fn into_inner(self) -> T {
        self.item
    }

    /// The rejected message.
    pub fn item(&self) -> &T {
        &self.item
    }

    /// Which limit refused the message.
    pub fn reason(&self) -> FullReason {
        self.reason
    }
}

// Manual impl: no `T: Debug` bound, and message payloads stay out of logs.
impl<T> fmt::Debug for BufferFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferFull")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deliberately neither `Debug` nor `Display`.
    struct Opaque(u8);

    fn assert_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}

    #[test]
    fn is_an_error_for_any_item_type() {
        let err = BufferFull::new(Opaque(3), FullReason::Count);
        assert_error(&err);
        assert_eq!(format!("{err:?}"), "BufferFull { reason: Count, .. }");
        assert_eq!(err.item().0, 3);
        assert_eq!(err.into_inner().0, 3);
    }

    #[test]
    fn message_names_the_reason() {
        let err = BufferFull::new(Opaque(0), FullReason::Bytes);
        assert_eq!(err.reason(), FullReason::Bytes);
        assert_eq!(
            err.to_string(),
            "outbound buffer full: byte limit would be exceeded"
        );
        assert_eq!(
            BufferFull::new(Opaque(0), FullReason::TooLarge).to_string(),
            "outbound buffer full: message is larger than the whole byte limit"
        );
    }
}
