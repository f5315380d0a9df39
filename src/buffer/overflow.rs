/// What [`MessageBuffer::push`](crate::MessageBuffer::push) does when the buffer is full.
///
/// Either way the caller learns which messages did not make it: a rejected
/// message comes back in the error, evicted ones in the `Ok` value.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OverflowPolicy {
    /// Keep the buffered messages and hand the new one back (the reference behaviour).
    #[default]
    RejectNew,
    /// Evict the oldest messages until the new one fits, and hand them back.
    DropOldest,
}
