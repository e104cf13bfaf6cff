//! Federation under load: the JWT bearer grant (RFC 7523 §2.1). The partner organization signs
//! a fresh assertion about its subject for every operation (a new `jti` each time, since a
//! server must refuse a replayed one, RFC 7523 §3 item 7), and the client presents it at the
//! token endpoint for an access token. Each operation costs the server what federation costs
//! it in production: parse, look up the partner's (cached) keys, verify an ES256 signature,
//! record the `jti`, issue.
//!
//! A target that does not offer the grant (its metadata does not list it, or its profile
//! trusts no partner) is skipped with a note, never loaded with requests it must refuse.

use super::issuance::judge_token;
use crate::outcome::{ErrorClass, Outcome};
use crate::wire::Wire;
use agentcert_engine::discovery::Metadata;
use agentcert_engine::oauth::GRANT_JWT_BEARER;
use agentcert_engine::partner::Partner;
use agentcert_engine::profile::{AssertionAudience, ClientRole, TargetProfile};
use goose::prelude::GooseUser;
use serde_json::json;
use std::sync::Arc;

#[derive(Debug)]
pub struct JwtBearer {
    /// The client that presents the assertions.
    pub client: ClientRole,
    pub partner: Arc<Partner>,
    /// The partner's subject (`sub`) and the scope asked for, from the profile's `[partner]`.
    pub subject: String,
    pub scope: String,
    /// The assertions' `aud`: the target's issuer or its token endpoint (RFC 7523 §3 item 3).
    pub audience: String,
}

impl JwtBearer {
    /// From the profile's `[partner]`, with `partner` the running partner issuer.
    pub fn new(client: ClientRole, partner: Arc<Partner>, profile: &TargetProfile, token_endpoint: &str) -> Result<JwtBearer, String> {
        let p = profile.partner.as_ref().ok_or("jwt-bearer: the target profile has no [partner]")?;
        let audience = match p.assertion_audience {
            AssertionAudience::Issuer => profile.issuer().to_string(),
            AssertionAudience::Endpoint | AssertionAudience::TokenEndpoint => token_endpoint.to_string(),
        };
        Ok(JwtBearer { client, partner, subject: p.subject.clone(), scope: p.scope.clone(), audience })
    }

    pub async fn act(&self, user: &mut GooseUser, wire: &Wire) -> Outcome {
        let Ok(assertion) = self.partner.assertion(&self.subject, &self.audience, json!({})) else {
            return Outcome::failed(ErrorClass::Harness);
        };
        let mut params = vec![("grant_type", GRANT_JWT_BEARER), ("assertion", assertion.as_str()), ("scope", self.scope.as_str())];
        let resources = &wire.profile.resources;
        if resources.always_send {
            params.push(("resource", resources.default.as_str()));
        }
        match wire.post_as(user, self.client, &wire.token_endpoint, "jwt-bearer", &params).await {
            Ok(answer) => judge_token(&answer),
            Err(class) => Outcome::failed(class),
        }
    }
}

/// Why the target cannot serve the jwt-bearer scenario, if it cannot: a profile override
/// (`capabilities.jwt-bearer`) decides first, then the metadata must list the grant
/// (RFC 8414 §2 `grant_types_supported`), and the profile must say the target trusts the
/// partner.
pub fn unsupported(profile: &TargetProfile, metadata: &Metadata) -> Option<String> {
    let Some(partner) = &profile.partner else {
        return Some("the target profile has no [partner] to sign assertions".into());
    };
    match profile.capabilities.get("jwt-bearer") {
        Some(false) => return Some("the target profile turns the jwt-bearer capability off".into()),
        Some(true) => {}
        None if !metadata.lists("grant_types_supported", GRANT_JWT_BEARER) => {
            return Some(format!("the target's metadata does not list the grant {GRANT_JWT_BEARER} in grant_types_supported"))
        }
        None => {}
    }
    (!partner.trusted).then(|| "the target profile says the target does not trust the [partner]".to_string())
}
