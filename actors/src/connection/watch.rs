//! Notices that nobody can reach the actor any more.
//!
//! actix keeps a context running while it has timers or tasks, even once every address
//! is gone: the heartbeat alone would keep an unreachable connection, and its socket,
//! open for ever, and whatever it held would be dropped unseen when it finally went.
//! Dropping the last address wakes the context, which polls this future; it then has
//! the actor end properly (see `ConnectionActor::abandon`).

use std::pin::Pin;
use std::task::{self, Poll};

use actix::{ActorFuture, Context};

use super::ConnectionActor;

/// Spawned on every (re)start of the context; ends when the actor is abandoned.
#[derive(Debug)]
pub(super) struct AddressWatch;

impl ActorFuture<ConnectionActor> for AddressWatch {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut ConnectionActor,
        ctx: &mut Context<ConnectionActor>,
        _task: &mut task::Context<'_>,
    ) -> Poll<()> {
        if ctx.connected() {
            // The context's own task is woken when the last address goes.
            return Poll::Pending;
        }
        act.abandon(ctx);
        Poll::Ready(())
    }
}
