//! JWT access tokens (RFC 9068): the header, the signature against the published JWK Set,
//! and the claims, for a client credentials token issued to agent A for the profile's
//! default resource. A resource server trusts exactly these things, so each is a check.

use agentcert_engine::jose::{decode_unverified, verify_with_jwks, DecodedJwt};
use agentcert_engine::oauth::{scopes, TokenAnswer, GRANT_CLIENT_CREDENTIALS};
use agentcert_engine::{check, Check, ClientRole, Ctx, Outcome, Verdict};
use anyhow::{anyhow, bail};
use serde_json::Value;

const SUITE: &str = "access-token";

pub fn checks() -> Vec<Check> {
    vec![
        check!("access-token.typ-at-jwt", SUITE, "The JWT header typ is at+jwt", ["JWTAT-001"], [JwtAccessTokens], typ_at_jwt),
        check!(
            "access-token.signed-asymmetric",
            SUITE,
            "The token is signed with an asymmetric algorithm: not none, not HMAC",
            ["JWTAT-002"],
            [JwtAccessTokens],
            signed_asymmetric
        ),
        check!(
            "access-token.kid-in-jwks",
            SUITE,
            "The header kid names a key in the JWK Set at jwks_uri",
            ["JWTAT-002", "DISC-009"],
            [JwtAccessTokens],
            kid_in_jwks
        ),
        check!(
            "access-token.jwks-alg-agrees",
            SUITE,
            "The JWK the kid selects is for the header's alg (alg, kty and use agree)",
            ["DISC-009"],
            [JwtAccessTokens],
            jwks_alg_agrees
        ),
        check!(
            "access-token.signature-verifies",
            SUITE,
            "The signature verifies with the published key",
            ["JWTAT-002"],
            [JwtAccessTokens],
            signature_verifies
        ),
        check!(
            "access-token.required-claims",
            SUITE,
            "iss, exp, aud, sub, client_id, iat and jti are present and well typed",
            ["JWTAT-003"],
            [JwtAccessTokens],
            required_claims
        ),
        check!("access-token.iss-is-issuer", SUITE, "iss is identical to the issuer", ["JWTAT-004"], [JwtAccessTokens], iss_is_issuer),
        check!(
            "access-token.aud-is-resource",
            SUITE,
            "aud is the resource the token was requested for",
            ["JWTAT-005"],
            [JwtAccessTokens],
            aud_is_resource
        ),
        check!(
            "access-token.scope-claim-matches",
            SUITE,
            "The scope claim is present and equals the scope the token response granted",
            ["JWTAT-006"],
            [JwtAccessTokens],
            scope_claim_matches
        ),
        check!(
            "access-token.lifetime-matches-expires-in",
            SUITE,
            "exp − iat equals expires_in within the clock skew, and stays within max_token_lifetime",
            ["CC-009"],
            [JwtAccessTokens],
            lifetime_matches
        ),
        check!(
            "access-token.client-id-is-requester",
            SUITE,
            "client_id is the client that requested the token",
            ["JWTAT-003", "CC-006"],
            [JwtAccessTokens],
            client_id_is_requester
        ),
        check!(
            "access-token.sub-identifies-client",
            SUITE,
            "With no resource owner, sub identifies the client",
            ["CC-006"],
            [JwtAccessTokens],
            sub_identifies_client
        ),
        check!(
            "access-token.jti-unique",
            SUITE,
            "Two successive tokens carry different jti values",
            ["CC-008"],
            [JwtAccessTokens],
            jti_unique
        ),
        check!(
            "access-token.distinct-aud-per-resource",
            SUITE,
            "Tokens for two different resources carry different aud values, neither naming the other resource",
            ["JWTAT-007"],
            [JwtAccessTokens],
            distinct_aud
        ),
        check!(
            "access-token.refused-as-client-assertion",
            SUITE,
            "An at+jwt access token presented as a client_assertion is refused",
            ["JWTAT-009"],
            [JwtAccessTokens],
            crate::issuance::access_token_as_assertion
        ),
    ]
}

/// A token issued to agent A, the response that carried it, and its decoded parts.
struct Issued {
    answer: TokenAnswer,
    token: String,
    jwt: DecodedJwt,
}

/// Agent A's client credentials token for the default resource (RFC 8707 §2), with `scope`
/// when given, else its registered scope. No token, or one that is not a JWT, is a setup
/// failure.
async fn issue(ctx: &Ctx, scope: Option<&str>) -> anyhow::Result<Issued> {
    let resource = ctx.profile().resources.default.clone();
    let registered = ctx.client(ClientRole::AgentA)?.scope.trim().to_string();
    let mut params = vec![("grant_type", GRANT_CLIENT_CREDENTIALS), ("resource", resource.as_str())];
    if let Some(s) = scope.or((!registered.is_empty()).then_some(registered.as_str())) {
        params.push(("scope", s));
    }
    let answer = ctx.token_request(ClientRole::AgentA, &params).await?;
    let token =
        answer.access_token().map(str::to_string).ok_or_else(|| anyhow!("setup: no access token for agent_a: {}", answer.describe()))?;
    let jwt = decode_unverified(&token).map_err(|e| anyhow!("setup: the access token is not a JWT: {e:#}"))?;
    Ok(Issued { answer, token, jwt })
}

fn agent_a_id(ctx: &Ctx) -> anyhow::Result<String> {
    Ok(ctx.client(ClientRole::AgentA)?.client_id.clone())
}

/// RFC 9068 §2.1: "JWT access tokens MUST include this media type [application/at+jwt] in
/// the typ header parameter", the value used SHOULD be `at+jwt`; §4: resource servers reject
/// any other value. Media types compare case-insensitively (RFC 7515 §4.1.9).
async fn typ_at_jwt(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    Ok(match i.jwt.header_str("typ") {
        Some(t) if t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt") => {
            Outcome::pass(format!("typ is {t:?}"))
        }
        Some(t) => Outcome::fail(format!("typ is {t:?}, not at+jwt: RFC 9068 resource servers reject it")),
        None => Outcome::fail("the JWT header has no typ; RFC 9068 §2.1 requires at+jwt"),
    })
}

/// RFC 9068 §2.1: "JWT access tokens MUST be signed. … use of asymmetric cryptography is
/// RECOMMENDED … JWT access tokens MUST NOT use none as the signing algorithm." Unsigned is a
/// failure; an HMAC, which a resource server can only verify by sharing the secret, is a
/// warning.
async fn signed_asymmetric(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    let alg = i.jwt.header_str("alg").unwrap_or("");
    let asymmetric = ["RS", "PS", "ES"].iter().any(|p| alg.starts_with(p)) || alg == "EdDSA";
    Ok(if alg.eq_ignore_ascii_case("none") || alg.is_empty() {
        Outcome::fail(format!("the access token is unsigned (alg {alg:?}); RFC 9068 §2.1 says MUST be signed, never none"))
    } else if asymmetric {
        Outcome::pass(format!("alg {alg}"))
    } else {
        Outcome { verdict: Verdict::Warn, reason: format!("alg {alg} is not an asymmetric algorithm, which RFC 9068 §2.1 RECOMMENDS") }
    })
}

/// The key the token's `kid` selects (or the only key, when there is no `kid`).
fn select_key<'a>(jwt: &DecodedJwt, jwks: &'a Value) -> Result<&'a Value, String> {
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or("the JWK Set has no keys array")?;
    match jwt.header_str("kid") {
        Some(kid) => {
            let known: Vec<&str> = keys.iter().filter_map(|k| k.get("kid").and_then(Value::as_str)).collect();
            keys.iter()
                .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
                .ok_or_else(|| format!("kid {kid:?} names no key in the JWK Set (its kids: {known:?})"))
        }
        None if keys.len() == 1 => Ok(&keys[0]),
        None => Err(format!("the header has no kid and the JWK Set has {} keys to choose from", keys.len())),
    }
}

/// RFC 9068 §4: the resource server verifies the token with the keys at `jwks_uri`, which it
/// selects by `kid` (RFC 7515 §4.1.4); RFC 8414 §2: jwks_uri holds the keys the AS signs with.
async fn kid_in_jwks(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    let jwks = ctx.jwks().await?;
    Ok(match select_key(&i.jwt, &jwks) {
        Ok(_) => Outcome::pass(match i.jwt.header_str("kid") {
            Some(kid) => format!("kid {kid:?} is in the JWK Set"),
            None => "no kid, and the JWK Set has exactly one key".to_string(),
        }),
        Err(why) => Outcome::fail(why),
    })
}

/// RFC 7517 §4.4: a JWK's `alg` "identifies the algorithm intended for use with the key";
/// RFC 7518 §3.1: the `kty` each JWS algorithm needs; RFC 7517 §4.2: `use` `sig`. A resource
/// server that honours the JWK (as it should) cannot use a key that disagrees with the token.
async fn jwks_alg_agrees(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    let jwks = ctx.jwks().await?;
    let key = select_key(&i.jwt, &jwks).map_err(|why| anyhow!("cannot compare: {why} (see access-token.kid-in-jwks)"))?;
    let alg = i.jwt.header_str("alg").unwrap_or("");
    let field = |m: &str| key.get(m).and_then(Value::as_str);
    let mut findings = Vec::new();
    if let Some(key_alg) = field("alg") {
        if key_alg != alg {
            findings.push(format!("the JWK says alg {key_alg}, the token header says {alg}"));
        }
    }
    let want_kty = match alg.get(..2) {
        Some("ES") => Some("EC"),
        Some("RS") | Some("PS") => Some("RSA"),
        _ if alg == "EdDSA" => Some("OKP"),
        _ => None,
    };
    if let (Some(want), Some(kty)) = (want_kty, field("kty")) {
        if want != kty {
            findings.push(format!("alg {alg} needs a {want} key, the JWK is kty {kty}"));
        }
    }
    if let Some(u) = field("use") {
        if u != "sig" {
            findings.push(format!("the JWK's use is {u:?}, not sig"));
        }
    }
    Ok(Outcome::from_findings(findings, format!("the selected JWK agrees with alg {alg}")))
}

/// RFC 9068 §4: the resource server "MUST validate the signature of all incoming JWT access
/// tokens" with the AS's published keys. Verified here with the JWK's own `alg` member set
/// aside (access-token.jwks-alg-agrees judges that), so that only the signature is at stake.
async fn signature_verifies(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    let mut jwks = ctx.jwks().await?;
    if let Some(keys) = jwks.get_mut("keys").and_then(Value::as_array_mut) {
        for k in keys.iter_mut().filter_map(Value::as_object_mut) {
            k.remove("alg");
        }
    }
    Ok(match verify_with_jwks(&i.token, &jwks) {
        Ok(_) => Outcome::pass("the signature verifies with the published key"),
        Err(e) => Outcome::fail(format!("the access token does not verify against jwks_uri: {e:#}")),
    })
}

/// RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti are REQUIRED; exp and iat are
/// NumericDates and aud a string or an array of strings (RFC 7519 §4.1).
async fn required_claims(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    let mut findings = Vec::new();
    for name in ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] {
        let ok = match (name, i.jwt.claim(name)) {
            (_, None) => {
                findings.push(format!("{name} is missing"));
                continue;
            }
            ("exp" | "iat", Some(v)) => v.is_number(),
            ("aud", Some(Value::Array(a))) => !a.is_empty() && a.iter().all(Value::is_string),
            (_, Some(v)) => v.as_str().is_some_and(|s| !s.is_empty()),
        };
        if !ok {
            findings.push(format!("{name} is malformed: {}", i.jwt.claim(name).cloned().unwrap_or_default()));
        }
    }
    Ok(Outcome::from_findings(findings, "iss, exp, aud, sub, client_id, iat and jti are all present"))
}

/// RFC 9068 §4: the resource server checks that `iss` "exactly matches" the issuer
/// identifier from the AS metadata.
async fn iss_is_issuer(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    Ok(match i.jwt.claim_str("iss") {
        Some(iss) if iss == ctx.issuer() => Outcome::pass(format!("iss is exactly {iss}")),
        Some(iss) => Outcome::fail(format!("iss {iss:?} is not identical to the issuer {:?}", ctx.issuer())),
        None => Outcome::fail("iss is missing or not a string"),
    })
}

/// RFC 9068 §3: "If the request includes a resource parameter …, the resulting JWT access
/// token aud claim SHOULD have the same value as the resource parameter in the request."
async fn aud_is_resource(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    let resource = &ctx.profile().resources.default;
    let aud: Vec<&str> = match i.jwt.claim("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    Ok(if aud == [resource.as_str()] {
        Outcome::pass(format!("aud is {resource}"))
    } else if aud.contains(&resource.as_str()) {
        Outcome::fail(format!("aud {aud:?} names {resource} and other audiences besides"))
    } else {
        let shown = i.jwt.claim("aud").map_or_else(|| "missing".to_string(), Value::to_string);
        Outcome::fail(format!("aud is {shown} for a request with resource={resource}"))
    })
}

/// RFC 9068 §2.2.3: when the request has a scope, the token "SHOULD include a scope claim",
/// and it states what was granted, which the response's `scope` reports (RFC 6749 §5.1; when
/// omitted, the requested scope).
async fn scope_claim_matches(ctx: Ctx) -> anyhow::Result<Outcome> {
    let allowance = scopes(&ctx.client(ClientRole::AgentA)?.scope);
    let Some(asked) = allowance.iter().next().cloned() else {
        return Ok(Outcome::skip("agent_a has no scope allowance in the profile to request"));
    };
    let i = issue(&ctx, Some(&asked)).await?;
    let granted = scopes(i.answer.str("scope").unwrap_or(&asked));
    Ok(match i.jwt.claim("scope") {
        Some(Value::String(s)) if scopes(s) == granted => Outcome::pass(format!("scope claim {s:?} matches the grant")),
        Some(Value::String(s)) => Outcome::fail(format!("scope claim {s:?} differs from the granted scope {granted:?}")),
        Some(other) => Outcome::fail(format!("scope claim is {other}, not a space-delimited string (RFC 9068 §2.2.3)")),
        None => Outcome::fail(format!("no scope claim, although scope={asked} was requested and granted")),
    })
}

/// agentcert's profile on RFC 6749 §5.1: `expires_in` is the token's lifetime, so a JWT's
/// exp − iat agrees with it (within the profile's clock skew) and is itself short.
async fn lifetime_matches(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    let timing = &ctx.profile().timing;
    let (skew, max) = (timing.clock_skew.as_secs() as i64, timing.max_token_lifetime.as_secs() as i64);
    let num = |n: &str| i.jwt.claim(n).and_then(Value::as_i64);
    let (Some(exp), Some(iat)) = (num("exp"), num("iat")) else {
        bail!("cannot compare: exp or iat is missing or not an integer (see access-token.required-claims)");
    };
    let Some(expires_in) = i.answer.get("expires_in").and_then(Value::as_i64) else {
        return Ok(Outcome::fail("the token response has no numeric expires_in to compare exp − iat with"));
    };
    let lifetime = exp - iat;
    Ok(if (lifetime - expires_in).abs() > skew {
        Outcome::fail(format!("exp − iat is {lifetime} s but expires_in is {expires_in} s (more than the {skew} s clock skew apart)"))
    } else if lifetime > max + skew {
        Outcome::fail(format!("exp − iat is {lifetime} s, longer than max_token_lifetime {max} s"))
    } else {
        Outcome::pass(format!("exp − iat is {lifetime} s, expires_in {expires_in} s"))
    })
}

/// RFC 9068 §2.2 `client_id` (REQUIRED) as RFC 8693 §4.3 defines it: "the client identifier
/// of the OAuth 2.0 client that requested the token".
async fn client_id_is_requester(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    let id = agent_a_id(&ctx)?;
    Ok(match i.jwt.claim_str("client_id") {
        Some(c) if c == id => Outcome::pass(format!("client_id is {id}")),
        Some(c) => Outcome::fail(format!("client_id is {c:?}, but {id} requested the token")),
        None => Outcome::fail("client_id is missing or not a string"),
    })
}

/// RFC 9068 §2.2: "In cases of access tokens obtained through grants where no resource owner
/// is involved, such as the client credentials grant, the value of sub SHOULD correspond to
/// an identifier the authorization server uses to indicate the client application." The
/// identifier the harness knows is the client_id.
async fn sub_identifies_client(ctx: Ctx) -> anyhow::Result<Outcome> {
    let i = issue(&ctx, None).await?;
    let id = agent_a_id(&ctx)?;
    Ok(match i.jwt.claim_str("sub") {
        Some(s) if s == id => Outcome::pass(format!("sub is the client_id {id}")),
        Some(s) => Outcome::fail(format!("sub is {s:?}, not the client_id {id}, for a client credentials token")),
        None => Outcome::fail("sub is missing or not a string"),
    })
}

/// RFC 9068 §2.2 `jti` (REQUIRED) and RFC 7519 §4.1.7: the identifier is unique, so that a
/// token can be told apart (for revocation, replay detection and audit).
async fn jti_unique(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (a, b) = (issue(&ctx, None).await?, issue(&ctx, None).await?);
    Ok(match (a.jwt.claim_str("jti"), b.jwt.claim_str("jti")) {
        (Some(x), Some(y)) => Outcome::expect(x != y, "two tokens, two jti values", format!("two successive tokens share the jti {x:?}")),
        _ => Outcome::fail("a token has no jti, so tokens cannot be told apart"),
    })
}

/// `aud` of a JWT as a set (RFC 7519 §4.1.3: a string or an array of strings).
fn aud_set(token: &str) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let jwt = decode_unverified(token).map_err(|e| anyhow!("setup: the access token is not a JWT: {e:#}"))?;
    Ok(match jwt.claim("aud") {
        Some(Value::String(s)) => [s.clone()].into(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Default::default(),
    })
}

/// RFC 9068 §5 and RFC 8707 §3: a resource server accepts a JWT access token only when it
/// finds itself in `aud`, which protects it only if a token issued for another resource says
/// so. Two tokens, one for each of the profile's resources (asked for separately, by a client
/// allowed both), must carry different `aud` values, and neither may name the other resource.
async fn distinct_aud(ctx: Ctx) -> anyhow::Result<Outcome> {
    let Some((role, first, second)) = crate::issuance::two_resource_client(&ctx).await? else {
        return Ok(Outcome::skip("the profile names no [resources].second, or no agent client may obtain tokens for both resources"));
    };
    let token = |a: TokenAnswer| a.access_token().map(str::to_string).ok_or_else(|| anyhow!("setup: no access token: {}", a.describe()));
    let t1 = token(crate::issuance::cc_for(&ctx, role, &[&first]).await?)?;
    let t2 = token(crate::issuance::cc_for(&ctx, role, &[&second]).await?)?;
    let (a1, a2) = (aud_set(&t1)?, aud_set(&t2)?);
    let mut findings = Vec::new();
    if a1 == a2 {
        findings.push(format!("both tokens carry aud {a1:?}, so either is accepted wherever the other is"));
    } else {
        if a1.contains(&second) {
            findings.push(format!("the token for {first} names {second} in its aud {a1:?}"));
        }
        if a2.contains(&first) {
            findings.push(format!("the token for {second} names {first} in its aud {a2:?}"));
        }
    }
    Ok(Outcome::from_findings(findings, format!("{} got aud {a1:?} for {first} and {a2:?} for {second}", role.key())))
}
