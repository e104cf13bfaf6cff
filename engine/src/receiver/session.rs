//! [`Session`]: a receiver with one push stream open on the target, in one call.

use super::management::{self, Management, TransmitterConfig};
use super::set::Expectations;
use super::{Receiver, SESSION_REVOKED};
use crate::discovery::Metadata;
use crate::http::Recorder;
use crate::profile::TargetProfile;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A receiver with one push stream open on the target: what a check or a load scenario needs
/// to see revocations arrive. Close it to delete the stream.
pub struct Session {
    pub receiver: Receiver,
    pub management: Management,
    /// The stream configuration the Transmitter answered with (SSF 1.0 §8.1.1.1).
    pub stream: Value,
    pub stream_id: String,
}

impl Session {
    /// Discovers the Transmitter for the target's issuer, gets a stream-management token for
    /// `[signals].client`, starts a receiver on `[signals].listen` and creates a push stream
    /// for CAEP session-revoked events. SETs are then validated against the configuration's
    /// issuer and `jwks_uri` and the stream's `aud`.
    pub async fn open(http: &Recorder, profile: &TargetProfile, metadata: &Metadata) -> anyhow::Result<Session> {
        let token_endpoint = metadata.str("token_endpoint").ok_or_else(|| anyhow::anyhow!("metadata has no token_endpoint"))?;
        let config = TransmitterConfig::fetch(http, profile.issuer()).await?;
        let token = management::receiver_token(http, profile, token_endpoint).await?;
        let receiver = Receiver::start(&profile.signals.listen, profile.signals.endpoint_url.as_deref()).await?;
        let management = Management::new(http.clone(), config, token);
        let body = json!({ "delivery": receiver.push_delivery(), "events_requested": [SESSION_REVOKED], "description": "agentcert signals receiver" });
        let resp = management.create(&body).await?;
        if resp.status != 201 {
            anyhow::bail!("setup: creating a push stream answered HTTP {}: {}", resp.status, crate::http::snippet(&resp.body));
        }
        let stream = resp.json()?;
        let stream_id = stream
            .get("stream_id")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("setup: the created stream has no stream_id"))?
            .to_string();
        let jwks = management.config.jwks(http).await.ok();
        receiver.expect(Expectations { issuer: Some(profile.issuer().to_string()), audience: stream.get("aud").cloned(), jwks });
        Ok(Session { receiver, management, stream, stream_id })
    }

    /// How long after `since` the first SET about the token `jti` arrived, waiting up to
    /// `timeout` (`None`: it did not arrive in time). For load: any number of these may wait
    /// at once.
    pub async fn latency(&self, jti: &str, since: Instant, timeout: Duration) -> Option<Duration> {
        self.receiver.arrival_of(jti, timeout).await.map(|at| at.saturating_duration_since(since))
    }

    /// Deletes the stream (SSF 1.0 §8.1.1.5) and stops the receiver.
    pub async fn close(self) -> anyhow::Result<()> {
        let resp = self.management.delete(&self.stream_id).await?;
        if resp.status != 204 {
            anyhow::bail!("deleting stream {} answered HTTP {}", self.stream_id, resp.status);
        }
        Ok(())
    }
}
