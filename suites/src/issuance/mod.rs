//! Issuance: the client credentials grant (RFC 6749 §4.4), client authentication at the token
//! endpoint (RFC 6749 §2.3, §3.2.1; RFC 7523 §3; RFC 7521 §4.2) and the token endpoint's
//! error responses (RFC 6749 §5.2). An agent gets its own tokens this way before it can
//! delegate, so these rules come right after discovery.

mod assertion;
mod auth;
mod errors;
mod response;
mod targets;

pub(crate) use assertion::access_token_as_assertion;
pub(crate) use targets::{cc_for, two_resource_client};

use crate::expect;
use agentcert_engine::client_auth;
use agentcert_engine::http::{Request, Response};
use agentcert_engine::oauth::{TokenAnswer, GRANT_CLIENT_CREDENTIALS};
use agentcert_engine::profile::{AuthMethod, ClientProfile, ClientRole};
use agentcert_engine::{check, Check, Ctx, Outcome, Verdict};

const SUITE: &str = "issuance";

pub fn checks() -> Vec<Check> {
    vec![
        // The success response (RFC 6749 §4.4.3, §5.1).
        check!(
            "issuance.cc-success-shape",
            SUITE,
            "A client credentials request gets 200 with a string access_token and token_type",
            ["CC-001"],
            [],
            response::success_shape
        ),
        check!(
            "issuance.token-type-bearer",
            SUITE,
            "token_type is Bearer (compared case-insensitively) or DPoP",
            ["CC-005"],
            [],
            response::token_type_bearer
        ),
        check!(
            "issuance.json-response",
            SUITE,
            "The token response is an application/json object",
            ["CC-003"],
            [],
            response::json_response
        ),
        check!("issuance.no-store", SUITE, "The token response carries Cache-Control: no-store", ["CC-002"], [], response::no_store),
        check!(
            "issuance.no-refresh-token",
            SUITE,
            "No refresh_token is issued for client credentials",
            ["CC-004"],
            [],
            response::no_refresh_token
        ),
        check!(
            "issuance.expires-in-bounded",
            SUITE,
            "expires_in is present and no longer than the profile's max_token_lifetime",
            ["CC-009"],
            [],
            response::expires_in_bounded
        ),
        check!(
            "issuance.scope-beyond-allowance-refused",
            SUITE,
            "A scope the client is not allowed is refused with invalid_scope or dropped, never granted",
            ["NARROW-001", "NARROW-002"],
            [],
            response::scope_beyond_allowance
        ),
        check!(
            "issuance.successive-tokens-differ",
            SUITE,
            "Two successive access tokens are different strings",
            ["CC-008"],
            [],
            response::successive_tokens_differ
        ),
        // Client authentication (RFC 6749 §2.3, §3.2.1, §5.2).
        check!(
            "issuance.unknown-client-refused",
            SUITE,
            "An unregistered client_id is refused with invalid_client",
            ["CAUTH-007"],
            [],
            auth::unknown_client
        ),
        check!(
            "issuance.wrong-secret-401-challenge",
            SUITE,
            "A wrong secret over HTTP Basic gets 401 invalid_client with a WWW-Authenticate challenge",
            ["CAUTH-008"],
            [],
            auth::wrong_secret
        ),
        check!(
            "issuance.no-credentials-refused",
            SUITE,
            "A token request with no client credentials (none, or a bare client_id) is refused",
            ["CAUTH-007"],
            [],
            auth::no_credentials
        ),
        check!(
            "issuance.two-methods-refused",
            SUITE,
            "A request using HTTP Basic and client_secret in the body at once is refused",
            ["CAUTH-009"],
            [],
            auth::two_methods
        ),
        check!(
            "issuance.secret-by-other-method-refused",
            SUITE,
            "A client's secret sent by a method other than the registered one is refused",
            ["CAUTH-014"],
            [],
            auth::secret_by_other_method
        ),
        check!(
            "issuance.client-id-alone-refused",
            SUITE,
            "A private_key_jwt client sending only its client_id is refused",
            ["CAUTH-007", "CAUTH-014"],
            [],
            auth::client_id_alone
        ),
        check!(
            "issuance.advertised-auth-methods-work",
            SUITE,
            "Every advertised token_endpoint_auth_method the profile has a client for authenticates that client",
            ["CAUTH-015"],
            [],
            auth::advertised_methods_work
        ),
        // private_key_jwt assertions (RFC 7523 §3, §3.2; RFC 8725 §3.1).
        check!(
            "issuance.assertion-replay-refused",
            SUITE,
            "A client assertion presented a second time (same jti) is refused",
            ["CAUTH-006"],
            [],
            assertion::replay
        ),
        check!(
            "issuance.assertion-alg-none-refused",
            SUITE,
            "An unsigned (alg none) client assertion is refused with invalid_client",
            ["CAUTH-002", "ERR-009"],
            [],
            assertion::alg_none
        ),
        check!(
            "issuance.assertion-hs256-public-key-refused",
            SUITE,
            "An HS256 client assertion keyed with the client's public key is refused with invalid_client",
            ["CAUTH-002", "ERR-009"],
            [],
            assertion::hs256_public_key
        ),
        check!(
            "issuance.assertion-wrong-aud-refused",
            SUITE,
            "A client assertion whose aud is another server is refused with invalid_client",
            ["CAUTH-002"],
            [],
            assertion::wrong_aud
        ),
        check!(
            "issuance.assertion-expired-refused",
            SUITE,
            "A client assertion whose exp has passed is refused with invalid_client",
            ["CAUTH-002"],
            [],
            assertion::expired
        ),
        check!(
            "issuance.private-key-jwt-accepted",
            SUITE,
            "A well-formed private_key_jwt assertion is accepted with aud = the issuer (and, or a warning, aud = the token endpoint)",
            ["CAUTH-001"],
            [],
            assertion::well_formed_accepted
        ),
        check!(
            "issuance.assertion-client-id-mismatch-refused",
            SUITE,
            "A client_id naming another client than the assertion's sub is refused",
            ["CAUTH-003"],
            [],
            assertion::client_id_mismatch
        ),
        check!(
            "issuance.typed-assertion-accepted",
            SUITE,
            "Assertions typed client-authentication+jwt are accepted, and so are untyped ones",
            ["CAUTH-005"],
            [],
            assertion::typed_accepted
        ),
        // Token endpoint errors (RFC 6749 §3.2, §5.2).
        check!(
            "issuance.error-json-registered-code",
            SUITE,
            "Token endpoint errors are application/json objects with a registered error code",
            ["ERR-001"],
            [],
            errors::error_shape
        ),
        check!(
            "issuance.unknown-grant-unsupported",
            SUITE,
            "An unknown grant_type gets unsupported_grant_type",
            ["ERR-002"],
            [],
            errors::unknown_grant
        ),
        check!(
            "issuance.missing-grant-type-invalid-request",
            SUITE,
            "A request without grant_type gets invalid_request",
            ["ERR-002"],
            [],
            errors::missing_grant_type
        ),
        check!(
            "issuance.duplicate-parameter-invalid-request",
            SUITE,
            "A request repeating grant_type gets invalid_request",
            ["ERR-003"],
            [],
            errors::duplicate_parameter
        ),
        check!(
            "issuance.non-form-body-invalid-request",
            SUITE,
            "A JSON body, or a form body labelled text/plain, gets 400 invalid_request, never a token or a 5xx",
            ["ERR-007"],
            [],
            errors::non_form_body
        ),
        check!(
            "issuance.get-issues-no-token",
            SUITE,
            "A GET to the token endpoint issues no token",
            ["ERR-006"],
            [],
            errors::get_issues_no_token
        ),
        check!(
            "issuance.unknown-parameter-ignored",
            SUITE,
            "An unrecognised extra parameter is ignored: the request still succeeds",
            ["ERR-005"],
            [],
            errors::unknown_parameter_ignored
        ),
        check!(
            "issuance.empty-parameter-treated-as-omitted",
            SUITE,
            "scope= (a parameter without a value) is answered exactly as if scope were omitted",
            ["ERR-004"],
            [],
            targets::empty_parameter_omitted
        ),
        // Requested scope and resources (RFC 6749 §3.3, RFC 8707 §2).
        check!(
            "issuance.omitted-scope-default-or-invalid-scope",
            SUITE,
            "A request without scope gets a default within the client's allowance, or invalid_scope",
            ["NARROW-003"],
            [],
            targets::omitted_scope
        ),
        check!(
            "issuance.malformed-resource-invalid-target",
            SUITE,
            "A relative resource, or one with a fragment, gets invalid_target",
            ["NARROW-010"],
            [],
            targets::malformed_resource
        ),
        check!(
            "issuance.multiple-resources-all-or-refused",
            SUITE,
            "Two resources get a token valid at both, or invalid_target; neither is silently dropped",
            ["NARROW-011"],
            [],
            targets::multiple_resources
        ),
    ]
}

/// `grant_type=client_credentials`, plus the default `resource` when the profile says to
/// always send one (as [`Ctx::client_credentials`] does), and a scope every agent client is
/// registered for (RFC 6749 §3.3 lets a server refuse a request without `scope`; these checks
/// judge client authentication and errors, not that).
fn cc_params(ctx: &Ctx) -> Vec<(String, String)> {
    let mut params = vec![("grant_type".to_string(), GRANT_CLIENT_CREDENTIALS.to_string())];
    let agent_scopes = [ClientRole::AgentA, ClientRole::AgentB, ClientRole::AgentX]
        .iter()
        .filter_map(|r| ctx.profile().client(*r))
        .map(|c| agentcert_engine::oauth::scopes(&c.scope))
        .filter(|s| !s.is_empty());
    if let Some(common) = agent_scopes.reduce(|a, b| a.intersection(&b).cloned().collect()) {
        if !common.is_empty() {
            params.push(("scope".into(), common.into_iter().collect::<Vec<_>>().join(" ")));
        }
    }
    let res = &ctx.profile().resources;
    if res.always_send {
        params.push(("resource".into(), res.default.clone()));
    }
    params
}

/// The first agent client (then the resource server) that holds a shared secret, preferring
/// one registered for `prefer`.
fn secret_client(ctx: &Ctx, prefer: AuthMethod) -> Option<(ClientRole, &ClientProfile)> {
    let with_secret: Vec<(ClientRole, &ClientProfile)> = ClientRole::ALL
        .iter()
        .filter_map(|r| ctx.profile().client(*r).map(|c| (*r, c)))
        .filter(|(_, c)| c.client_secret.is_some() && c.auth_method != AuthMethod::PrivateKeyJwt)
        .collect();
    with_secret.iter().find(|(_, c)| c.auth_method == prefer).or(with_secret.first()).copied()
}

/// The first client registered for `private_key_jwt`, agent A first.
fn jwt_client(ctx: &Ctx) -> Option<&ClientProfile> {
    ClientRole::ALL.iter().filter_map(|r| ctx.profile().client(*r)).find(|c| c.auth_method == AuthMethod::PrivateKeyJwt)
}

/// Name/value pairs: headers or form parameters.
type Pairs = Vec<(String, String)>;

/// The credentials `role` sends the way it registered: headers to add and form parameters.
fn credentials(ctx: &Ctx, role: ClientRole) -> anyhow::Result<(Pairs, Pairs)> {
    let token_endpoint = ctx.endpoint("token_endpoint")?;
    let (mut headers, mut params) = (Vec::new(), Vec::new());
    client_auth::apply(ctx.client(role)?, ctx.issuer(), &token_endpoint, &token_endpoint, &mut params, &mut headers)?;
    Ok((headers, params))
}

/// POSTs exactly these form parameters and headers to the token endpoint.
async fn post_token(ctx: &Ctx, params: &[(String, String)], headers: &[(String, String)]) -> anyhow::Result<Response> {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut req = Request::post_form(ctx.endpoint("token_endpoint")?, &pairs).header("accept", "application/json");
    req.headers.extend(headers.iter().cloned());
    ctx.http.send(req).await
}

/// Owned copies of borrowed parameter pairs.
fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Judges several requests that must all be refused with one of `expected`, each described by
/// its label. A granted (or 5xx) answer decides the verdict whatever the others say; then a
/// wrong code (fail, or warn in lenient mode); else every refusal passes.
fn refused_all(ctx: &Ctx, cases: &[(String, TokenAnswer)], expected: &[&str], rule: &str) -> Outcome {
    let judged: Vec<(bool, Outcome)> = cases
        .iter()
        .map(|(what, a)| (a.is_success() || !(400..500).contains(&a.status), expect::refused_with(ctx, a, expected, what, rule)))
        .collect();
    if let Some((_, o)) = judged.iter().find(|(hard, o)| *hard && o.verdict != Verdict::Pass) {
        return o.clone();
    }
    let rank = |o: &Outcome| match o.verdict {
        Verdict::Fail | Verdict::Error => 0,
        Verdict::Warn => 1,
        _ => 2,
    };
    if let Some((_, o)) = judged.iter().filter(|(_, o)| rank(o) < 2).min_by_key(|(_, o)| rank(o)) {
        return o.clone();
    }
    Outcome::pass(judged.into_iter().map(|(_, o)| o.reason).collect::<Vec<_>>().join("; "))
}
