//! What a check can see and do: the target (profile, metadata, capabilities), the harness
//! roles, and OAuth calls that record their exchanges as the check's evidence.

use crate::check::Capability;
use crate::client_auth;
use crate::discovery::Metadata;
use crate::home_issuer::HomeIssuer;
use crate::http::{Recorder, Request, Response};
use crate::oauth::{TokenAnswer, GRANT_CLIENT_CREDENTIALS};
use crate::partner::Partner;
use crate::profile::{AssertionAudience, ClientProfile, ClientRole, TargetProfile};
use crate::results::CapabilityState;
use anyhow::{anyhow, Context as _};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The target as discovered, shared by every check of a run.
#[derive(Debug)]
pub struct Target {
    pub profile: TargetProfile,
    pub metadata: Metadata,
    pub capabilities: BTreeMap<Capability, CapabilityState>,
    pub home: Option<HomeIssuer>,
    pub partner: Option<Partner>,
}

/// The harness roles a caller started before the run, so that the target could be told to
/// trust them (the embedded run must); the runner starts the others from the profile.
#[derive(Debug, Default)]
pub struct Roles {
    pub home: Option<HomeIssuer>,
    pub partner: Option<Partner>,
}

impl From<Option<HomeIssuer>> for Roles {
    fn from(home: Option<HomeIssuer>) -> Self {
        Roles { home, partner: None }
    }
}

/// A check's context: the shared target plus the check's own recorder. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ctx {
    target: Arc<Target>,
    pub http: Recorder,
}

impl Ctx {
    pub fn new(target: Arc<Target>, http: Recorder) -> Self {
        Ctx { target, http }
    }

    pub fn profile(&self) -> &TargetProfile {
        &self.target.profile
    }
    pub fn metadata(&self) -> &Metadata {
        &self.target.metadata
    }
    /// The issuer as the profile names it (RFC 8414 §3.3 compares against this).
    pub fn issuer(&self) -> &str {
        self.target.profile.issuer()
    }
    pub fn has(&self, cap: Capability) -> bool {
        self.target.capabilities.get(&cap).is_some_and(|s| s.enabled)
    }

    pub fn client(&self, role: ClientRole) -> anyhow::Result<&ClientProfile> {
        self.profile().client(role).ok_or_else(|| anyhow!("the target profile has no [clients.{}]", role.key()))
    }

    /// An endpoint URL from metadata (`token_endpoint`, `revocation_endpoint`, …).
    pub fn endpoint(&self, member: &str) -> anyhow::Result<String> {
        self.metadata().str(member).map(str::to_string).ok_or_else(|| anyhow!("metadata has no {member}"))
    }

    /// Sends a form POST to `endpoint_member`, authenticated as `role` the way it registered.
    pub async fn post_as(&self, role: ClientRole, endpoint_member: &str, params: &[(&str, &str)]) -> anyhow::Result<Response> {
        let url = self.endpoint(endpoint_member)?;
        let token_endpoint = self.endpoint("token_endpoint")?;
        let client = self.client(role)?;
        let mut form: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut headers = vec![("accept".to_string(), "application/json".to_string())];
        client_auth::apply(client, self.issuer(), &url, &token_endpoint, &mut form, &mut headers)?;
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut req = Request::post_form(url, &pairs);
        req.headers = headers;
        self.http.send(req).await
    }

    /// A form POST with no client authentication at all.
    pub async fn post_anonymous(&self, endpoint_member: &str, params: &[(&str, &str)]) -> anyhow::Result<Response> {
        let url = self.endpoint(endpoint_member)?;
        self.http.send(Request::post_form(url, params).header("accept", "application/json")).await
    }

    /// A token request (RFC 6749 §3.2) as `role`.
    pub async fn token_request(&self, role: ClientRole, params: &[(&str, &str)]) -> anyhow::Result<TokenAnswer> {
        Ok(TokenAnswer::from(&self.post_as(role, "token_endpoint", params).await?))
    }

    /// A client-credentials request (RFC 6749 §4.4.2), with the profile's default `resource`
    /// when it says to always send one. `scope` defaults to the client's registered scope:
    /// RFC 6749 §3.3 lets a server refuse a request without one, and whether it does is judged
    /// by its own check, not by every check that just needs a token.
    pub async fn client_credentials(&self, role: ClientRole, scope: Option<&str>) -> anyhow::Result<Response> {
        let registered = self.client(role)?.scope.trim().to_string();
        let scope = scope.or((!registered.is_empty()).then_some(registered.as_str()));
        let mut params = vec![("grant_type", GRANT_CLIENT_CREDENTIALS)];
        if let Some(s) = scope {
            params.push(("scope", s));
        }
        let res = &self.profile().resources;
        if res.always_send {
            params.push(("resource", res.default.as_str()));
        }
        self.post_as(role, "token_endpoint", &params).await
    }

    /// An access token for `role`, or an error saying why none could be had: for checks that
    /// need a token as a precondition, so that a failed setup is `error`, not `fail`.
    pub async fn issue_token(&self, role: ClientRole) -> anyhow::Result<String> {
        let resp = self.client_credentials(role, None).await?;
        let answer = TokenAnswer::from(&resp);
        answer
            .access_token()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("setup: could not obtain an access token for {}: {}", role.key(), answer.describe()))
    }

    /// RFC 7662 §2.1 introspection as `caller`.
    pub async fn introspect(&self, caller: ClientRole, token: &str, hint: Option<&str>) -> anyhow::Result<Response> {
        let mut params = vec![("token", token)];
        if let Some(h) = hint {
            params.push(("token_type_hint", h));
        }
        self.post_as(caller, "introspection_endpoint", &params).await
    }

    /// Introspects as the resource server and reads `active`; an unreadable answer is an error.
    pub async fn is_active(&self, token: &str) -> anyhow::Result<bool> {
        let resp = self.introspect(ClientRole::ResourceServer, token, None).await?;
        if resp.status != 200 {
            // Not an answer about the token (RFC 7662 §2.2 answers 200 either way): the
            // harness cannot observe the token's state through this server's introspection.
            anyhow::bail!(
                "cannot observe the token's state: introspection answered {} instead of 200 with `active`",
                TokenAnswer::from(&resp).describe()
            );
        }
        let body = resp.json_object().context("introspection response")?;
        match body.get("active") {
            Some(Value::Bool(b)) => Ok(*b),
            other => Err(anyhow!("introspection response has no boolean `active` (HTTP {}, active = {other:?})", resp.status)),
        }
    }

    /// RFC 7009 §2.1 revocation as `caller`.
    pub async fn revoke(&self, caller: ClientRole, token: &str, hint: Option<&str>) -> anyhow::Result<Response> {
        let mut params = vec![("token", token)];
        if let Some(h) = hint {
            params.push(("token_type_hint", h));
        }
        self.post_as(caller, "revocation_endpoint", &params).await
    }

    /// The home issuer, when the target trusts it.
    pub fn home(&self) -> anyhow::Result<&HomeIssuer> {
        self.target.home.as_ref().ok_or_else(|| anyhow!("no home issuer is running (the target profile has no [home_issuer])"))
    }

    /// A user token from the home issuer for the profile's user, audience the target's
    /// issuer, with `overrides` merged into the claims (`null` removes one).
    pub fn user_token(&self, overrides: Value) -> anyhow::Result<String> {
        let h = self.profile().home_issuer.as_ref().ok_or_else(|| anyhow!("the target profile has no [home_issuer]"))?;
        self.home()?.mint(&h.subject, &h.scope, self.issuer(), overrides)
    }

    /// The partner organization, when the profile has a `[partner]`.
    pub fn partner(&self) -> anyhow::Result<&Partner> {
        self.target.partner.as_ref().ok_or_else(|| anyhow!("no partner issuer is running (the target profile has no [partner])"))
    }

    /// RFC 7523 §3 claims from the partner about the profile's partner subject, with the `aud`
    /// the profile names (the target's issuer or token endpoint) and `overrides` merged in
    /// (`null` removes a claim).
    pub fn partner_claims(&self, overrides: Value) -> anyhow::Result<Value> {
        let p = self.profile().partner.as_ref().ok_or_else(|| anyhow!("the target profile has no [partner]"))?;
        let aud = match p.assertion_audience {
            AssertionAudience::Issuer => self.issuer().to_string(),
            AssertionAudience::Endpoint | AssertionAudience::TokenEndpoint => self.endpoint("token_endpoint")?,
        };
        Ok(self.partner()?.claims(&p.subject, &aud, overrides))
    }

    /// [`Ctx::partner_claims`] signed with the partner's current key: an RFC 7523 assertion.
    pub fn partner_assertion(&self, overrides: Value) -> anyhow::Result<String> {
        self.partner()?.sign(&self.partner_claims(overrides)?)
    }

    /// Fetches the server's JWK Set from `jwks_uri`.
    pub async fn jwks(&self) -> anyhow::Result<Value> {
        let url = self.endpoint("jwks_uri")?;
        let resp = self.http.send(Request::get(url)).await?;
        if resp.status != 200 {
            anyhow::bail!("jwks_uri answered HTTP {}", resp.status);
        }
        resp.json()
    }
}
