//! RFC 7662 introspection and RFC 7009 revocation over HTTP.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn introspection_entitlement_and_inactive_shape() {
    let s = start(&[]).await;
    let t = s.token_for_agent_b().await;
    let (_, claims) = decode(&t);
    // The token's own client, a client in its aud, and an introspect_any resource server.
    for auth in [agent_a(), agent_b(), resource_server()] {
        let r = s.introspect(auth, &t).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["active"], true, "{}", r.text);
        for claim in ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti"] {
            assert_eq!(r.body[claim], claims[claim], "{claim}");
        }
        assert_eq!(r.body["token_type"], "Bearer");
    }
    // agent-x is none of those: inactive, exactly.
    assert_eq!(s.introspect(agent_x(), &t).await.body, json!({ "active": false }));
    for junk in ["garbage", "a.b.c", "", &format!("{t}x")] {
        let r = s.post("introspect", resource_server(), &[("token", junk)]).await;
        if junk.is_empty() {
            assert_eq!((r.status, r.error()), (400, "invalid_request"));
        } else {
            assert_eq!((r.status, &r.body), (200, &json!({ "active": false })), "{junk}");
        }
    }
    // The caller must authenticate.
    let r = s.introspect(Auth::None, &t).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    let r = s.introspect(Auth::Basic("resource-server", "wrong"), &t).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
}

#[tokio::test]
async fn revocation_rules() {
    let s = start(&[]).await;
    let a = s.client_credentials(agent_a(), &[]).await.token();
    let b = s.client_credentials(agent_b(), &[]).await.token();
    // Another client's token: 200, no effect.
    let r = s.post("revoke", agent_x(), &[("token", &a)]).await;
    assert_eq!(r.status, 200);
    assert_eq!(s.introspect(resource_server(), &a).await.body["active"], true);
    // Unknown tokens and unknown hints: still 200 (RFC 7009 §2.1, §2.2).
    assert_eq!(s.post("revoke", agent_x(), &[("token", "nonsense")]).await.status, 200);
    let r = s.post("revoke", agent_b(), &[("token", &b), ("token_type_hint", "refresh_token")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(s.introspect(resource_server(), &b).await.body["active"], false, "a wrong hint is only a hint");
    let r = s.post("revoke", agent_a(), &[("token", &a), ("token_type_hint", "bogus")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(s.introspect(resource_server(), &a).await.body, json!({ "active": false }));
    // Authentication required; token required.
    assert_eq!(s.post("revoke", Auth::None, &[("token", &a)]).await.status, 401);
    assert_eq!(s.post("revoke", agent_a(), &[]).await.error(), "invalid_request");
}
