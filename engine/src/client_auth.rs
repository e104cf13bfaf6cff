//! Client authentication, as each registered method sends it (RFC 6749 §2.3.1, RFC 7521 §4.2,
//! RFC 7523 §2.2 and §3, OIDC Core §9).

use crate::jose::{now, random_id, SigningKey};
use crate::profile::{AssertionAudience, AuthMethod, ClientProfile};
use base64::Engine;
use serde_json::json;

/// The `client_assertion_type` for JWT client authentication (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Adds `client`'s credentials to a request bound for `endpoint`, the way its registered
/// method sends them: an `Authorization: Basic` header, form parameters, or a signed assertion.
pub fn apply(
    client: &ClientProfile,
    issuer: &str,
    endpoint: &str,
    token_endpoint: &str,
    params: &mut Vec<(String, String)>,
    headers: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    let secret = client.client_secret.as_deref().unwrap_or_default();
    match client.auth_method {
        AuthMethod::ClientSecretBasic => headers.push(("authorization".into(), basic(&client.client_id, secret))),
        AuthMethod::ClientSecretPost => {
            params.push(("client_id".into(), client.client_id.clone()));
            params.push(("client_secret".into(), secret.to_string()));
        }
        AuthMethod::PrivateKeyJwt => {
            let aud = match client.assertion_audience {
                AssertionAudience::Issuer => issuer,
                AssertionAudience::Endpoint => endpoint,
                AssertionAudience::TokenEndpoint => token_endpoint,
            };
            params.push(("client_id".into(), client.client_id.clone()));
            params.push(("client_assertion_type".into(), JWT_BEARER_ASSERTION.into()));
            params.push(("client_assertion".into(), assertion(client, aud)?));
        }
    }
    Ok(())
}

/// `Basic base64(urlencode(id):urlencode(secret))`: RFC 6749 §2.3.1 form-encodes both parts
/// before Basic encoding them, which servers sometimes forget.
pub fn basic(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(client_id), enc(secret));
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

/// A fresh `private_key_jwt` assertion: iss = sub = client_id, the given aud, a one-minute
/// lifetime and a unique `jti` (RFC 7523 §3).
pub fn assertion(client: &ClientProfile, aud: &str) -> anyhow::Result<String> {
    let key = signing_key(client)?;
    let iat = now();
    key.sign(
        None,
        &json!({
            "iss": client.client_id, "sub": client.client_id, "aud": aud,
            "iat": iat, "exp": iat + 60, "jti": random_id(),
        }),
    )
}

pub fn signing_key(client: &ClientProfile) -> anyhow::Result<SigningKey> {
    let pem = client.private_key_pem.as_deref().ok_or_else(|| anyhow::anyhow!("client {} has no private key", client.client_id))?;
    SigningKey::from_pem(pem)
}
