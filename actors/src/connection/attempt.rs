//! Before each attempt: ask the credentials provider. After each failure: let the
//! retry policy judge it for the endpoint that failed, and choose the next endpoint.

use std::time::{Duration, Instant};

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use tether::endpoints::Choice;
use tether::ConnectionState;

use super::ConnectionActor;
use crate::{
    Attempt, Credentials, CredentialsError, DisconnectReason, FailureContext, RetryDecision,
};

type Answer = Result<Result<Credentials, CredentialsError>, ()>;

/// What the judgement of a failure leaves to do.
pub(super) enum Verdict {
    /// Every endpoint is given up.
    GiveUp,
    /// Retry: the next attempt goes to `Choice::index`.
    Retry(Choice),
    /// The policy would retry, but `max_reconnect_attempts` are used up.
    Exhausted,
}

impl ConnectionActor {
    /// Starts attempt `generation`: asks the provider first, if there is one, then dials.
    pub(super) fn authenticate(&mut self, generation: u64, ctx: &mut Context<Self>) {
        let Some(provider) = self.dialer.provider() else {
            self.dial(generation, None, ctx);
            return;
        };
        let attempt = Attempt {
            connection: self.id,
            name: self.name.clone(),
            attempt: self.machine.attempts(),
            endpoint: self.dialer.endpoint().clone(),
        };
        // `spawn`, not `wait`: Sends keep being buffered while the provider runs.
        let asked = provider
            .credentials(&attempt)
            .into_actor(self)
            .timeout(self.config.credentials_timeout())
            .map(move |answer, act, ctx| act.on_credentials(generation, answer, ctx));
        ctx.spawn(asked);
    }

    fn on_credentials(&mut self, generation: u64, answer: Answer, ctx: &mut Context<Self>) {
        if generation != self.generation || self.machine.state() != ConnectionState::Connecting {
            return; // closed meanwhile
        }
        match answer {
            Ok(Ok(credentials)) => self.dial(generation, Some(credentials), ctx),
            Ok(Err(error)) => {
                let reason = DisconnectReason::CredentialsFailed {
                    message: error.message().to_owned(),
                    is_final: error.is_final(),
                };
                self.fail(ctx, reason);
            }
            Err(()) => {
                let after = self.config.credentials_timeout();
                self.fail(ctx, DisconnectReason::CredentialsTimedOut { after });
            }
        }
    }

    /// The policy's decision on `reason` applies to the current endpoint; then the
    /// attempt limit is checked, and the next endpoint chosen.
    pub(super) fn judge(&mut self, reason: &DisconnectReason) -> Verdict {
        let failure = FailureContext {
            reason: reason.clone(),
            attempt: self.machine.attempts(),
            endpoint: self.dialer.endpoint().clone(),
            endpoints: self.dialer.len(),
        };
        let mut decision = self.policy.decide_attempt(&failure);
        if matches!(
            reason,
            DisconnectReason::CredentialsFailed { is_final: true, .. }
        ) {
            // The provider said so: no policy can make it work on this endpoint.
            decision = RetryDecision::GiveUp;
        }
        let now = Instant::now();
        if self.dialer.record(decision, now) {
            return Verdict::GiveUp;
        }
        if !self.machine.should_reconnect() {
            return Verdict::Exhausted;
        }
        let attempts_reset = self.machine.attempts() == 0;
        match self.dialer.advance(attempts_reset, now) {
            Some(choice) => Verdict::Retry(choice),
            None => Verdict::GiveUp,
        }
    }

    /// The wait before the next attempt: the backoff step when the choice completes a
    /// cycle of the endpoints (or, without a choice, the attempt counter's step), none
    /// for a switch within a cycle; at least the endpoint's `Retry-After`.
    pub(super) fn wait_before(&mut self, choice: Option<Choice>) -> Duration {
        let step = match choice {
            Some(choice) => choice.cycle,
            None => Some(self.machine.attempts()),
        };
        let delay = step.map_or(Duration::ZERO, |step| self.backoff.delay(step));
        match choice.and_then(|choice| choice.not_before) {
            Some(floor) => delay.max(floor),
            None => delay,
        }
    }
}
