use actix::Message;

use crate::Status;

/// Ask for a snapshot of the connection's state and counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Message)]
#[rtype(result = "Status")]
pub struct GetStatus;
