//! The content of one WebSocket data message.

use bytes::Bytes;
use bytestring::ByteString;

/// The content of one WebSocket data message, outbound or inbound.
///
/// Both variants are reference-counted buffers, so cloning a payload is cheap and never
/// copies the bytes.
///
/// ```
/// use tether_actix::Payload;
///
/// let text = Payload::from("hello");
/// assert_eq!(text.as_text(), Some("hello"));
/// let binary = Payload::from(vec![1_u8, 2, 3]);
/// assert_eq!(binary.len(), 3);
/// assert_eq!(binary.as_text(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Payload {
    /// A text message: always valid UTF-8.
    Text(ByteString),
    /// A binary message.
    Binary(Bytes),
}

impl Payload {
    /// A text payload.
    pub fn text(text: impl Into<ByteString>) -> Self {
        Self::Text(text.into())
    }

    /// A binary payload.
    pub fn binary(bytes: impl Into<Bytes>) -> Self {
        Self::Binary(bytes.into())
    }

    /// Length of the content in bytes (UTF-8 bytes for text).
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the content is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text, when this is a text payload.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            Self::Binary(_) => None,
        }
    }

    /// The raw bytes of either variant.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }

    /// Whether this is a text payload.
    pub fn is_text(&self) -> bool {
        matches!(self, Self::Text(_))
    }

    /// The frame this payload is written as.
    pub(crate) fn to_frame(&self) -> awc::ws::Message {
        match self {
            Self::Text(text) => awc::ws::Message::Text(text.clone()),
            Self::Binary(bytes) => awc::ws::Message::Binary(bytes.clone()),
        }
    }

    /// An empty placeholder, used where a payload has been moved out of a value that
    /// implements `Drop`.
    pub(crate) fn empty() -> Self {
        Self::Binary(Bytes::new())
    }
}

/// Text as it is; binary as its length, since it may not be printable.
impl std::fmt::Display for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(text) => f.write_str(text),
            Self::Binary(bytes) => write!(f, "<{} bytes>", bytes.len()),
        }
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Self::Text(text.into())
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Self {
        Self::Text(text.into())
    }
}

impl From<ByteString> for Payload {
    fn from(text: ByteString) -> Self {
        Self::Text(text)
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(bytes.into())
    }
}

impl From<&[u8]> for Payload {
    fn from(bytes: &[u8]) -> Self {
        Self::Binary(Bytes::copy_from_slice(bytes))
    }
}

impl From<Bytes> for Payload {
    fn from(bytes: Bytes) -> Self {
        Self::Binary(bytes)
    }
}
