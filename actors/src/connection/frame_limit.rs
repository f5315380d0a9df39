//! awc's WebSocket codec, made safe against two things a server can do with one frame.
//!
//! - **A huge frame.** actix-http's `Parser` compares a frame's length with the limit
//!   only once the whole frame is in the read buffer, so a server announcing a 1 GiB
//!   frame makes the buffer grow to 1 GiB before the frame is refused. [`FrameLimit`]
//!   reads the length from the header and refuses the frame before its payload is
//!   buffered.
//! - **A slow frame.** Until a frame is whole, the reader sees nothing, so a large frame
//!   on a slow link looked like silence to the heartbeat, which killed the link, again
//!   and again. [`FrameLimit`] notes when a frame is still arriving, and how much of it
//!   has, for the heartbeat (which then also sees a frame that only trickles).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use actix_codec::{Decoder, Encoder};
use awc::error::WsProtocolError;
use awc::ws::{Codec, Frame, Message};
use bytes::BytesMut;

/// When bytes of a frame not yet whole were last seen, and how many of it there are;
/// `None` while no frame is partly read.
pub(crate) type Progress = Rc<Cell<Option<(Instant, usize)>>>;

/// awc's codec with the frame size checked on the header, and frame progress noted.
#[derive(Debug)]
pub(crate) struct FrameLimit {
    inner: Codec,
    max_size: usize,
    receiving: Progress,
}

impl FrameLimit {
    pub(crate) fn new(inner: Codec, max_size: usize, receiving: Progress) -> Self {
        Self {
            inner,
            max_size,
            receiving,
        }
    }
}

/// The payload length announced by the frame header at the start of `src`, once the
/// header's length bytes are there.
fn announced_len(src: &[u8]) -> Option<u64> {
    match *src.get(1)? & 0x7F {
        126 => src
            .get(2..4)
            .map(|b| u64::from(u16::from_be_bytes([b[0], b[1]]))),
        127 => src.get(2..10).map(|b| {
            let mut len = [0; 8];
            len.copy_from_slice(b);
            u64::from_be_bytes(len)
        }),
        len => Some(u64::from(len)),
    }
}

impl Decoder for FrameLimit {
    type Item = Frame;
    type Error = WsProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, WsProtocolError> {
        // `src` always starts at a frame boundary: the codec consumes whole frames.
        if announced_len(src).is_some_and(|len| len > self.max_size as u64) {
            return Err(WsProtocolError::Overflow);
        }
        let decoded = self.inner.decode(src)?;
        if decoded.is_some() {
            self.receiving.set(None);
        } else if !src.is_empty() {
            // Called after a read: part of a frame has arrived, the rest has not yet.
            self.receiving.set(Some((Instant::now(), src.len())));
        }
        Ok(decoded)
    }
}

impl Encoder<Message> for FrameLimit {
    type Error = WsProtocolError;

    fn encode(&mut self, item: Message, dst: &mut BytesMut) -> Result<(), WsProtocolError> {
        self.inner.encode(item, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(max_size: usize) -> (FrameLimit, Progress) {
        let receiving = Rc::new(Cell::new(None));
        let inner = Codec::new().client_mode().max_size(max_size);
        (
            FrameLimit::new(inner, max_size, receiving.clone()),
            receiving,
        )
    }

    #[test]
    fn reads_all_three_length_forms() {
        assert_eq!(announced_len(&[0x82]), None);
        assert_eq!(announced_len(&[0x82, 5]), Some(5));
        assert_eq!(announced_len(&[0x82, 126, 1]), None);
        assert_eq!(announced_len(&[0x82, 126, 1, 0]), Some(256));
        assert_eq!(
            announced_len(&[0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]),
            Some(1 << 32)
        );
    }

    #[test]
    fn refuses_an_oversized_frame_on_its_header_alone() {
        let (mut codec, _) = limited(16);
        let mut header = BytesMut::from(&[0x82_u8, 126, 0x10, 0x00][..]);
        assert!(matches!(
            codec.decode(&mut header),
            Err(WsProtocolError::Overflow)
        ));
        let (mut codec, _) = limited(16);
        let mut small = BytesMut::from(&[0x82_u8, 2, b'o', b'k'][..]);
        assert!(matches!(
            codec.decode(&mut small),
            Ok(Some(Frame::Binary(_)))
        ));
    }

    #[test]
    fn notes_a_frame_still_arriving() {
        let (mut codec, receiving) = limited(16);
        let mut whole = BytesMut::from(&[0x82_u8, 2, b'o', b'k'][..]);
        assert!(codec.decode(&mut whole).unwrap().is_some());
        assert_eq!(receiving.get(), None, "a whole frame is not 'arriving'");
        let mut part = BytesMut::from(&[0x82_u8, 4, b'o'][..]);
        assert!(codec.decode(&mut part).unwrap().is_none());
        assert_eq!(receiving.get().map(|(_, bytes)| bytes), Some(3));
        part.extend_from_slice(b"kk");
        assert!(codec.decode(&mut part).unwrap().is_none());
        assert_eq!(
            receiving.get().map(|(_, bytes)| bytes),
            Some(5),
            "progress counted"
        );
        part.extend_from_slice(b"!");
        assert!(codec.decode(&mut part).unwrap().is_some());
        assert_eq!(receiving.get(), None, "whole again");
    }
}
