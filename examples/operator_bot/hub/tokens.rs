//! Connect tokens: short-lived and single-use. `GET /token` issues one to a caller that
//! holds the hub's secret; one WebSocket handshake redeems it. A bot therefore needs a
//! fresh token for every connect: a stale one (used, or expired) is refused with 401.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// How long an issued token stays valid.
const TOKEN_TTL: Duration = Duration::from_secs(10);

/// The tokens issued and not yet redeemed, and what became of the others.
#[derive(Debug)]
pub(super) struct Tokens {
    /// Token → valid until.
    live: HashMap<String, Instant>,
    /// Unpredictable, unlike the hub's seeded choices.
    rng: StdRng,
    pub(super) issued: u64,
    pub(super) redeemed: u64,
    pub(super) refused: u64,
}

impl Default for Tokens {
    fn default() -> Self {
        Self {
            live: HashMap::new(),
            rng: StdRng::from_os_rng(),
            issued: 0,
            redeemed: 0,
            refused: 0,
        }
    }
}

impl Tokens {
    /// A fresh token, valid for one handshake within [`TOKEN_TTL`].
    pub(super) fn issue(&mut self, now: Instant) -> String {
        self.live.retain(|_, until| *until >= now);
        let token = format!(
            "{:016x}{:016x}",
            self.rng.random::<u64>(),
            self.rng.random::<u64>()
        );
        self.live.insert(token.clone(), now + TOKEN_TTL);
        self.issued += 1;
        token
    }

    /// Whether `token` was issued, is unexpired and unused; it is used up either way.
    pub(super) fn redeem(&mut self, token: &str, now: Instant) -> bool {
        let valid = self.live.remove(token).is_some_and(|until| until >= now);
        if valid {
            self.redeemed += 1;
        } else {
            self.refused += 1;
        }
        valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_once_and_only_when_issued_and_fresh() {
        let mut tokens = Tokens::default();
        let now = Instant::now();
        let token = tokens.issue(now);
        assert!(!tokens.redeem("made-up", now));
        assert!(tokens.redeem(&token, now));
        assert!(!tokens.redeem(&token, now), "single use");
        let late = tokens.issue(now);
        assert!(!tokens.redeem(&late, now + TOKEN_TTL + Duration::from_secs(1)));
        assert_eq!((tokens.issued, tokens.redeemed, tokens.refused), (2, 1, 3));
    }
}
