//! JWT access tokens (RFC 9068): issuing them and recognising our own.

use serde_json::{json, Map, Value};

use crate::error::OAuthError;
use crate::faults::Fault;
use crate::jwt;
use crate::state::{AppState, Client};
use crate::store::TokenRecord;

/// RFC 9068 §2.1: the `typ` header of a JWT access token.
pub const AT_JWT: &str = "at+jwt";

/// What a grant decided, before it becomes a signed token.
pub struct Grant<'a> {
    /// The authenticated client the token is issued to (`client_id`).
    pub client: &'a Client,
    pub sub: String,
    pub scope: Vec<String>,
    pub aud: Vec<String>,
    /// Latest acceptable `exp` (the subject/actor tokens' expiry in token exchange).
    pub exp_cap: Option<u64>,
    /// RFC 8693 §4.1 actor claim.
    pub act: Option<Value>,
    /// Store keys of the tokens this one derives from.
    pub parents: Vec<String>,
    /// The issuer that asserted `sub`, when it is not this server (a partner's jwt-bearer
    /// grant, RFC 7523 §2.1): recorded as RFC 9493 `sub_id` {format `iss_sub`, iss, sub}, as
    /// `sub` alone is only unique within its issuer (RFC 7519 §4.1.2).
    pub subject_issuer: Option<String>,
}

/// A signed token and what the token response reports about it.
pub struct Issued {
    pub access_token: String,
    pub expires_in: u64,
    pub scope: Vec<String>,
}

/// Signs the access token and records it in the store.
pub fn issue(state: &AppState, grant: Grant<'_>) -> Result<Issued, OAuthError> {
    let now = jwt::now();
    let mut exp = now.saturating_add(state.access_token_lifetime());
    if let Some(cap) = grant.exp_cap {
        exp = exp.min(cap);
    }
    let expires_in = exp.saturating_sub(now);
    // RFC 6749 §5.1: expires_in is the token's lifetime, so exp = iat + expires_in.
    if state.faults.has(Fault::TokenExpMismatch) {
        exp = exp.saturating_add(3600);
    }
    // RFC 7519 §4.1.7: a unique identifier per token, so it cannot be replayed or confused.
    let jti = if state.faults.has(Fault::TokenReusedJti) {
        state.reused_jti.clone()
    } else {
        jwt::random_id().ok_or_else(|| OAuthError::server_error("no randomness available"))?
    };

    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti are REQUIRED; scope when granted.
    let mut claims = Map::new();
    let iss = if state.faults.has(Fault::TokenIssTrailingSlash) { format!("{}/", state.issuer) } else { state.issuer.clone() };
    claims.insert("iss".into(), json!(iss));
    claims.insert("exp".into(), json!(exp));
    claims.insert("aud".into(), jwt::audience_value(&grant.aud));
    claims.insert("sub".into(), json!(grant.sub));
    if !state.faults.has(Fault::TokenNoClientId) {
        claims.insert("client_id".into(), json!(grant.client.id()));
    }
    claims.insert("iat".into(), json!(now));
    if !state.faults.has(Fault::TokenNoJti) {
        claims.insert("jti".into(), json!(jti));
    }
    if !grant.scope.is_empty() {
        claims.insert("scope".into(), json!(grant.scope.join(" ")));
    }
    if let Some(act) = &grant.act {
        claims.insert("act".into(), act.clone());
    }
    if let Some(iss) = &grant.subject_issuer {
        claims.insert("sub_id".into(), json!({ "format": "iss_sub", "iss": iss, "sub": grant.sub }));
    }
    if let Some(agent) = &grant.client.config.agent {
        claims.insert("agent".into(), json!(agent));
    }

    // RFC 9068 §2.1: `typ` is `at+jwt`; RFC 7515 §4.1.4: `kid` names the key in our JWK Set.
    let typ = if state.faults.has(Fault::TokenTypJwt) { "JWT" } else { AT_JWT };
    let kid = if state.faults.has(Fault::TokenKidNotInJwks) { format!("{}-retired", state.key.kid) } else { state.key.kid.clone() };
    let access_token = state.key.sign(typ, &kid, &claims).ok_or_else(|| OAuthError::server_error("cannot sign the access token"))?;

    let key = if claims.contains_key("jti") { jti } else { access_token.clone() };
    let record = TokenRecord {
        client_id: grant.client.id().to_string(),
        sub: grant.sub,
        scope: grant.scope.clone(),
        aud: grant.aud,
        exp,
        parents: grant.parents,
        revoked: false,
    };
    // RFC 7009 §2.1: a token derived from one revoked meanwhile is not issued (see Store::insert).
    if !state.store.insert(key, record, now) {
        return Err(OAuthError::invalid_request("a token this one derives from was revoked while it was being issued"));
    }
    Ok(Issued { access_token, expires_in, scope: grant.scope })
}

/// One of this server's own tokens: signature verified, record found.
#[derive(Debug, Clone)]
pub struct OwnToken {
    /// Store key (the `jti`).
    pub key: String,
    pub claims: Map<String, Value>,
    pub record: TokenRecord,
}

impl OwnToken {
    /// Verifies our ES256 signature and looks the token up by `jti`. Revocation and
    /// expiry are left to the caller, which decides what each means for its endpoint.
    pub fn recognise(state: &AppState, token: &str) -> Option<OwnToken> {
        if !state.key.verifies(token) {
            return None;
        }
        let claims = jwt::peek(token)?.claims;
        let key = jwt::str_claim(&claims, "jti").map_or_else(|| token.to_string(), str::to_owned);
        let record = state.store.get(&key)?;
        Some(OwnToken { key, claims, record })
    }

    /// RFC 7519 §4.1.4: the token must not be accepted on or after `exp`.
    pub fn expired(&self, now: u64) -> bool {
        jwt::time_claim(&self.claims, "exp").is_none_or(|exp| now >= exp)
    }

    /// The scope tokens of the `scope` claim.
    pub fn scope(&self) -> Vec<String> {
        crate::state::split_scope(jwt::str_claim(&self.claims, "scope").unwrap_or_default())
    }
}
