//! Client-credentials issuance (RFC 6749 §4.4): the request every agent makes before it can
//! do anything, and so the one an authorization server must serve fastest.

use crate::outcome::{ErrorClass, Outcome};
use crate::wire::{Answer, Wire};
use agentcert_engine::oauth::GRANT_CLIENT_CREDENTIALS;
use agentcert_engine::profile::ClientRole;
use goose::prelude::GooseUser;

#[derive(Debug)]
pub struct Issuance {
    pub client: ClientRole,
}

impl Issuance {
    pub async fn act(&self, user: &mut GooseUser, wire: &Wire) -> Outcome {
        match client_credentials(user, wire, self.client).await {
            Ok(answer) => judge_token(&answer),
            Err(class) => Outcome::failed(class),
        }
    }
}

/// A client-credentials token request as `role`, with the profile's default `resource` when
/// it says to always send one (RFC 8707 §2).
pub async fn client_credentials(user: &mut GooseUser, wire: &Wire, role: ClientRole) -> Result<Answer, ErrorClass> {
    let mut params = vec![("grant_type", GRANT_CLIENT_CREDENTIALS)];
    let resources = &wire.profile.resources;
    if resources.always_send {
        params.push(("resource", resources.default.as_str()));
    }
    wire.post_as(user, role, &wire.token_endpoint, "token", &params).await
}

/// A client-credentials access token as `role`, or the class of what went wrong: the first
/// step of every scenario that needs a token to act on (revoke it, say).
pub async fn access_token(user: &mut GooseUser, wire: &Wire, role: ClientRole) -> Result<String, ErrorClass> {
    let answer = client_credentials(user, wire, role).await?;
    match answer.access_token() {
        Some(t) => Ok(t.to_string()),
        None if answer.status == 200 => Err(ErrorClass::BadResponse),
        None => Err(ErrorClass::of_status(answer.status)),
    }
}

/// A token answer: success only with an access token (RFC 6749 §5.1). An error status is an
/// answered error, timed; a 200 without a token is a bad response.
pub fn judge_token(answer: &Answer) -> Outcome {
    match (answer.status, answer.access_token()) {
        (200, Some(_)) => Outcome::OK,
        (200, None) => Outcome::answered_error(ErrorClass::BadResponse),
        (status, _) => Outcome::answered_error(ErrorClass::of_status(status)),
    }
}
