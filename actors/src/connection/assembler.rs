//! Reassembly of fragmented messages (awc hands continuation frames over as pieces).

use actix_http::ws::Item;
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use crate::{DisconnectReason, Payload};

/// Joins continuation frames into whole messages and checks size and UTF-8.
#[derive(Debug)]
pub(crate) struct Assembler {
    limit: usize,
    partial: Option<Partial>,
}

#[derive(Debug)]
struct Partial {
    text: bool,
    bytes: BytesMut,
}

impl Assembler {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            partial: None,
        }
    }

    /// A whole (unfragmented) data frame.
    pub(crate) fn whole(&mut self, text: bool, bytes: Bytes) -> Result<Payload, DisconnectReason> {
        if self.partial.is_some() {
            // RFC 6455 §5.4: data frames must not interleave with a fragmented message.
            return Err(protocol("data frame inside a fragmented message"));
        }
        self.check_size(bytes.len())?;
        finish(text, bytes)
    }

    /// One continuation piece; `Ok(Some(_))` once the message is complete.
    pub(crate) fn fragment(&mut self, item: Item) -> Result<Option<Payload>, DisconnectReason> {
        match item {
            Item::FirstText(bytes) => self.start(true, bytes).map(|()| None),
            Item::FirstBinary(bytes) => self.start(false, bytes).map(|()| None),
            Item::Continue(bytes) => self.append(&bytes).map(|_| None),
            Item::Last(bytes) => {
                let text = self.append(&bytes)?;
                let joined = self
                    .partial
                    .take()
                    .map(|p| p.bytes.freeze())
                    .unwrap_or_default();
                finish(text, joined).map(Some)
            }
        }
    }

    fn start(&mut self, text: bool, bytes: Bytes) -> Result<(), DisconnectReason> {
        if self.partial.is_some() {
            return Err(protocol("new fragmented message before the last one ended"));
        }
        self.check_size(bytes.len())?;
        self.partial = Some(Partial {
            text,
            bytes: BytesMut::from(&bytes[..]),
        });
        Ok(())
    }

    /// Appends and returns whether the message in progress is text.
    fn append(&mut self, bytes: &[u8]) -> Result<bool, DisconnectReason> {
        let limit = self.limit;
        let Some(partial) = self.partial.as_mut() else {
            return Err(protocol("continuation frame without a first fragment"));
        };
        if partial.bytes.len().saturating_add(bytes.len()) > limit {
            self.partial = None;
            return Err(DisconnectReason::MessageTooLarge { limit });
        }
        partial.bytes.extend_from_slice(bytes);
        Ok(partial.text)
    }

    fn check_size(&self, len: usize) -> Result<(), DisconnectReason> {
        if len > self.limit {
            return Err(DisconnectReason::MessageTooLarge { limit: self.limit });
        }
        Ok(())
    }
}

fn finish(text: bool, bytes: Bytes) -> Result<Payload, DisconnectReason> {
    if text {
        ByteString::try_from(bytes)
            .map(Payload::Text)
            .map_err(|_| DisconnectReason::InvalidUtf8)
    } else {
        Ok(Payload::Binary(bytes))
    }
}

fn protocol(message: &str) -> DisconnectReason {
    DisconnectReason::ProtocolError {
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn joins_text_fragments_in_order() {
        let mut assembler = Assembler::new(64);
        assert_eq!(assembler.fragment(Item::FirstText(b("hel"))), Ok(None));
        assert_eq!(assembler.fragment(Item::Continue(b("lo "))), Ok(None));
        assert_eq!(
            assembler.fragment(Item::Last(b("world"))),
            Ok(Some(Payload::from("hello world")))
        );
        // Ready for the next message.
        assert_eq!(assembler.whole(false, b("x")), Ok(Payload::from(b("x"))));
    }

    #[test]
    fn utf8_split_across_fragments_is_accepted_and_invalid_utf8_is_not() {
        let mut assembler = Assembler::new(64);
        let snowman = "☃".as_bytes();
        assembler
            .fragment(Item::FirstText(Bytes::copy_from_slice(&snowman[..1])))
            .unwrap();
        assert_eq!(
            assembler.fragment(Item::Last(Bytes::copy_from_slice(&snowman[1..]))),
            Ok(Some(Payload::from("☃")))
        );
        assert_eq!(
            assembler.whole(true, Bytes::from_static(&[0xff, 0xfe])),
            Err(DisconnectReason::InvalidUtf8)
        );
    }

    #[test]
    fn enforces_the_limit_on_the_whole_message() {
        let mut assembler = Assembler::new(8);
        assert_eq!(
            assembler.whole(false, b("123456789")),
            Err(DisconnectReason::MessageTooLarge { limit: 8 })
        );
        assembler.fragment(Item::FirstBinary(b("12345"))).unwrap();
        assert_eq!(
            assembler.fragment(Item::Continue(b("6789"))),
            Err(DisconnectReason::MessageTooLarge { limit: 8 })
        );
    }

    #[test]
    fn rejects_broken_fragment_sequences() {
        let mut assembler = Assembler::new(64);
        assert!(matches!(
            assembler.fragment(Item::Continue(b("x"))),
            Err(DisconnectReason::ProtocolError { .. })
        ));
        assembler.fragment(Item::FirstText(b("a"))).unwrap();
        assert!(matches!(
            assembler.whole(true, b("b")),
            Err(DisconnectReason::ProtocolError { .. })
        ));
        assert!(matches!(
            assembler.fragment(Item::FirstBinary(b("c"))),
            Err(DisconnectReason::ProtocolError { .. })
        ));
    }
}
