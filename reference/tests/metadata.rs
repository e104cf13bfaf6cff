//! RFC 8414 metadata, OIDC discovery and the JWK Set; configuration loading.

mod common;

use agentcert_reference::{Config, Fault};
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn metadata_advertises_what_is_enforced() {
    let mut config = roster();
    config.issuer_path = "/tenant-1".into();
    let s = start_with(config).await;
    let issuer = s.issuer().to_string();
    assert_eq!(issuer, format!("http://{}/tenant-1", s.server.addr));
    let root = format!("http://{}", s.server.addr);
    let oauth = s.get(&format!("{root}/.well-known/oauth-authorization-server/tenant-1")).await;
    let oidc = s.get(&format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(oauth.status, 200);
    assert_eq!(oauth.body, oidc.body);
    let m = &oauth.body;
    assert_eq!(m["issuer"], issuer);
    for (member, path) in
        [("token_endpoint", "token"), ("jwks_uri", "jwks"), ("introspection_endpoint", "introspect"), ("revocation_endpoint", "revoke")]
    {
        assert_eq!(m[member], format!("{issuer}/{path}"));
    }
    assert_eq!(m["grant_types_supported"], json!(["client_credentials", TOKEN_EXCHANGE, JWT_BEARER_GRANT]));
    let methods = json!(["client_secret_basic", "client_secret_post", "private_key_jwt"]);
    assert_eq!(m["token_endpoint_auth_methods_supported"], methods);
    assert_eq!(m["introspection_endpoint_auth_methods_supported"], methods);
    assert_eq!(m["revocation_endpoint_auth_methods_supported"], methods);
    assert_eq!(m["token_endpoint_auth_signing_alg_values_supported"], json!(["ES256"]));
    assert_eq!(m["scopes_supported"], json!(["calendar.read", "calendar.write", "mail.read", "ssf.manage", "ssf.read"]));
    assert!(m.get("response_types_supported").is_none());
    for (k, v) in m.as_object().unwrap() {
        assert!(v.as_array().is_none_or(|a| !a.is_empty()), "{k} is empty");
        assert!(!v.to_string().contains("\"none\""), "{k}");
    }
    // The endpoints it advertises work under the issuer path.
    assert_eq!(s.get(&format!("{root}/.well-known/oauth-authorization-server")).await.status, 404);
    let r = s.client_credentials(agent_b(), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(decode(&r.token()).1["iss"], issuer);
}

#[tokio::test]
async fn jwks_is_public_with_thumbprint_kid() {
    let s = start(&[]).await;
    let jwks = s.get(&s.url("jwks")).await.body;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!((key["kty"].as_str(), key["crv"].as_str()), (Some("EC"), Some("P-256")));
    assert_eq!((key["alg"].as_str(), key["use"].as_str()), (Some("ES256"), Some("sig")));
    assert!(key.get("d").is_none());
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).unwrap();
    assert_eq!(key["kid"], jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256));
}

#[tokio::test]
async fn metadata_and_jwks_faults() {
    let s = start(&[Fault::MetadataNotJson, Fault::JwksPrivateMaterial, Fault::JwksDuplicateKid]).await;
    let r = s.get(&format!("{}/.well-known/oauth-authorization-server", s.issuer())).await;
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(r.body, Value::Null);
    let jwks = s.get(&s.url("jwks")).await.body;
    assert!(jwks["keys"][0]["d"].is_string());
    assert_eq!(jwks["keys"][0]["kid"], jwks["keys"][1]["kid"]);
    assert_ne!(jwks["keys"][0]["x"], jwks["keys"][1]["x"]);
}

#[test]
fn config_loading() {
    let embedded = Config::embedded().unwrap();
    assert_eq!(embedded.clients.len(), 5);
    assert!(embedded.clients[0].public_key_pem.as_deref().unwrap().contains("BEGIN PUBLIC KEY"));
    assert_eq!(roster().clients[0].public_key_pem, embedded.clients[0].public_key_pem);

    let dir = fixtures().join("reference");
    let err = |text: &str| format!("{:#}", Config::from_toml(text, &dir).unwrap_err());
    assert!(err("listen = 3").contains("listen"));
    assert!(err("colour = 'blue'").contains("unknown field"));
    assert!(err("faults = ['no-such-fault']").contains("no-such-fault"));
    assert!(err("issuer_path = 'tenant/'").contains("issuer_path"));
    assert!(err("[[clients]]\nclient_id = 'c'\nauth_method = 'none'").contains("unknown variant"));
    assert!(err("[[clients]]\nclient_id = 'c'\nauth_method = 'client_secret_post'").contains("client_secret"));
    assert!(err("[[clients]]\nclient_id = 'c'\nauth_method = 'private_key_jwt'\npublic_key_pem_file = 'nope.pem'").contains("nope.pem"));
    assert!(err("[[clients]]\nclient_id = 'c'\nauth_method = 'client_secret_basic'\nclient_secret = 's'\ngrant_types = ['password']")
        .contains("password"));
    let config = Config::from_toml("faults = ['revoke-unknown-400', 'token-lifetime-24h']", &dir).unwrap();
    assert_eq!(config.faults, vec![Fault::RevokeUnknown400, Fault::TokenLifetime24h]);
    for fault in Fault::ALL {
        assert_eq!(fault.name().parse::<Fault>(), Ok(*fault));
        assert_eq!(serde_json::to_value(fault).unwrap(), json!(fault.name()));
    }
}
