//! Revocation latency: how long after a revocation (RFC 7009 §2.1) the resource server's
//! introspection (RFC 7662 §2.1) stops calling the token active. For an agent whose access was
//! just withdrawn, that window is how long it can still act, so it is timed, not assumed.
//!
//! Each operation issues a token, revokes it as the client it was issued to, and polls
//! introspection as the resource server: at once, then after 5, 10, 20, 40, 80 ms and every
//! 100 ms after that, until the profile's `timing.revoke_within` has passed. The latency is
//! from the start of the revoke call to the first `active: false`; a token still active after
//! `revoke_within` is a `not-propagated` error.

use super::issuance::access_token;
use crate::outcome::{ErrorClass, Outcome};
use crate::wire::Wire;
use agentcert_engine::profile::ClientRole;
use goose::prelude::GooseUser;
use std::time::{Duration, Instant};

/// The poll interval once backed off.
const POLL_CAP: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct Revocation {
    pub client: ClientRole,
    pub within: Duration,
}

impl Revocation {
    pub async fn act(&self, user: &mut GooseUser, wire: &Wire) -> Outcome {
        let (Some(revoke), Some(introspect)) = (&wire.revocation_endpoint, &wire.introspection_endpoint) else {
            return Outcome::failed(ErrorClass::Harness);
        };
        let token = match access_token(user, wire, self.client).await {
            Ok(t) => t,
            Err(class) => return Outcome::failed(class),
        };
        let params = [("token", token.as_str()), ("token_type_hint", "access_token")];
        let revoked_at = Instant::now();
        match wire.post_as(user, self.client, revoke, "revoke", &params).await {
            Ok(a) if a.status == 200 => {}
            Ok(a) => return Outcome::failed(ErrorClass::of_status(a.status)),
            Err(class) => return Outcome::failed(class),
        }
        let deadline = revoked_at + self.within;
        for wait in poll_delays(self.within) {
            // Not even a zero sleep before the first poll: tokio's timer ticks in whole
            // milliseconds, so `sleep(0)` would add up to a millisecond to every latency.
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            match wire.post_as(user, ClientRole::ResourceServer, introspect, "introspect", &[("token", token.as_str())]).await {
                Ok(a) if a.status != 200 => return Outcome::failed(ErrorClass::of_status(a.status)),
                Ok(a) => match a.active() {
                    Some(false) => return Outcome::measured(revoked_at.elapsed()),
                    Some(true) => {}
                    None => return Outcome::failed(ErrorClass::BadResponse),
                },
                Err(class) => return Outcome::failed(class),
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        Outcome::failed(ErrorClass::NotPropagated)
    }
}

/// The waits before each poll: 0, 5, 10, 20, 40, 80 ms, then 100 ms, enough to cover
/// `within` (and so bounded: 5 s is 55 polls).
pub fn poll_delays(within: Duration) -> Vec<Duration> {
    let mut delays = vec![Duration::ZERO];
    let mut next = Duration::from_millis(5);
    let mut covered = Duration::ZERO;
    while covered < within {
        delays.push(next);
        covered += next;
        next = (next * 2).min(POLL_CAP);
    }
    delays
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_back_off_and_are_bounded() {
        let d = poll_delays(Duration::from_secs(5));
        let ms: Vec<u64> = d.iter().take(8).map(|d| d.as_millis() as u64).collect();
        assert_eq!(ms, [0, 5, 10, 20, 40, 80, 100, 100]);
        assert!(d.iter().sum::<Duration>() >= Duration::from_secs(5));
        assert_eq!(d.len(), 55);
        assert_eq!(poll_delays(Duration::from_millis(1)).len(), 2);
    }
}
