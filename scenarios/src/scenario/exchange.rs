//! Delegation by token exchange (RFC 8693 §2.1): a user's token from the home issuer,
//! exchanged by an agent for a token that acts on the user's behalf. Each operation mints a
//! fresh user token, because a real population brings many users, and a server may cache
//! what it has validated once.

use super::issuance::judge_token;
use crate::outcome::{ErrorClass, Outcome};
use crate::wire::Wire;
use agentcert_engine::home_issuer::HomeIssuer;
use agentcert_engine::oauth::{GRANT_TOKEN_EXCHANGE, TT_JWT};
use agentcert_engine::profile::ClientRole;
use goose::prelude::GooseUser;
use serde_json::json;
use std::sync::Arc;

#[derive(Debug)]
pub struct Exchange {
    pub client: ClientRole,
    pub home: Arc<HomeIssuer>,
    /// The user on whose behalf the agent acts, and the user's scopes.
    pub subject: String,
    pub scope: String,
}

impl Exchange {
    pub async fn act(&self, user: &mut GooseUser, wire: &Wire) -> Outcome {
        let Ok(subject_token) = self.home.mint(&self.subject, &self.scope, wire.profile.issuer(), json!({})) else {
            return Outcome::failed(ErrorClass::Harness);
        };
        let mut params =
            vec![("grant_type", GRANT_TOKEN_EXCHANGE), ("subject_token", subject_token.as_str()), ("subject_token_type", TT_JWT)];
        let resources = &wire.profile.resources;
        if resources.always_send {
            params.push(("resource", resources.default.as_str()));
        }
        match wire.post_as(user, self.client, &wire.token_endpoint, "token-exchange", &params).await {
            Ok(answer) => judge_token(&answer),
            Err(class) => Outcome::failed(class),
        }
    }
}
