//! Fault switches: each one makes the server break exactly one rule, so that
//! agentcert's negative tests can prove they notice. A fault is enabled by its
//! kebab-case name in `faults = [..]` and tested with `state.faults.has(Fault::X)`
//! at the very point where the rule is enforced.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! faults {
    ($($variant:ident = $name:literal : $rule:literal,)*) => {
        /// A deliberate violation of one rule; the doc line names the rule broken.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Fault {
            $(#[doc = $rule] #[serde(rename = $name)] $variant,)*
        }

        impl Fault {
            /// Every fault, in declaration order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant),*];

            /// The kebab-case name used in configuration.
            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name,)* }
            }

            /// One line naming the rule this fault breaks.
            pub fn rule(self) -> &'static str {
                match self { $(Fault::$variant => $rule,)* }
            }
        }
    };
}

faults! {
    MetadataIssuerTrailingSlash = "metadata-issuer-trailing-slash": "RFC 8414 §3.3: metadata `issuer` must be identical to the issuer (adds a trailing slash)",
    MetadataEmptyArray = "metadata-empty-array": "RFC 8414 §2: metadata members with no values are omitted, never empty arrays",
    MetadataNoneAlg = "metadata-none-alg": "RFC 8414 §2: `none` must not appear in token_endpoint_auth_signing_alg_values_supported",
    MetadataOmitIntrospection = "metadata-omit-introspection": "RFC 8414 §2: the introspection_endpoint that exists is not advertised",
    MetadataOmitTokenExchangeGrant = "metadata-omit-token-exchange-grant": "RFC 8414 §2: grant_types_supported omits the token-exchange grant it supports",
    MetadataNoAsymmetricAuth = "metadata-no-asymmetric-auth": "RFC 8414 §2: token_endpoint_auth_methods_supported lists only client_secret_basic",
    MetadataNotJson = "metadata-not-json": "RFC 8414 §3.2: metadata is served as text/plain, not a JSON object",
    JwksPrivateMaterial = "jwks-private-material": "RFC 7517 §9.2 / RFC 7518 §6.2.2.1: the published JWK carries the private `d`",
    JwksDuplicateKid = "jwks-duplicate-kid": "RFC 7517 §4.5: two different keys in the JWK Set share one `kid`",
    TokenKidNotInJwks = "token-kid-not-in-jwks": "RFC 7515 §4.1.4: the token `kid` names no key in the JWK Set",
    TokenTypJwt = "token-typ-jwt": "RFC 9068 §2.1: access token header `typ` is `JWT` instead of `at+jwt`",
    TokenNoClientId = "token-no-client-id": "RFC 9068 §2.2: access token lacks the required `client_id` claim",
    TokenIssTrailingSlash = "token-iss-trailing-slash": "RFC 9068 §2.2: access token `iss` differs from the issuer (trailing slash)",
    TokenNoJti = "token-no-jti": "RFC 9068 §2.2: access token lacks the required `jti` claim",
    TokenReusedJti = "token-reused-jti": "RFC 7519 §4.1.7: every access token carries the same `jti`",
    TokenLifetime24h = "token-lifetime-24h": "agent profile: access tokens live 24 hours instead of minutes",
    TokenExpMismatch = "token-exp-mismatch": "RFC 6749 §5.1: `exp` is one hour later than iat + expires_in",
    TokenMissingNoStore = "token-missing-no-store": "RFC 6749 §5.1: token response lacks Cache-Control: no-store",
    TokenAlgHeaderMismatch = "token-alg-header-mismatch": "RFC 7517 §4.4: the JWK says RS256 while tokens are signed ES256",
    CcRefreshToken = "cc-refresh-token": "RFC 6749 §4.4.3: a refresh token is issued to client credentials",
    CcIgnoreScopeAllowance = "cc-ignore-scope-allowance": "RFC 6749 §3.3 / §5.2: requested scope beyond the allowance is granted",
    CcTokenTypeMac = "cc-token-type-mac": "RFC 6750 §4 / RFC 6749 §7.1: token_type is `mac` for a bearer token",
    AuthAcceptAnySecret = "auth-accept-any-secret": "RFC 6749 §2.3.1: the client secret is not checked",
    AuthAcceptUnknownClient = "auth-accept-unknown-client": "RFC 6749 §5.2: an unregistered client_id is accepted",
    AuthNoWwwAuthenticate = "auth-no-www-authenticate": "RFC 6749 §5.2: 401 after Basic without a WWW-Authenticate header",
    AuthAllowUnregisteredMethod = "auth-allow-unregistered-method": "RFC 7591 §2: a client may use a method other than its registered one",
    AuthAllowTwoMethods = "auth-allow-two-methods": "RFC 6749 §2.3: more than one authentication method in one request is accepted",
    AuthAssertionReplay = "auth-assertion-replay": "RFC 7523 §3 item 7: a client assertion `jti` is accepted twice",
    AuthAssertionAnyAlg = "auth-assertion-any-alg": "RFC 8725 §3.1: client assertions signed HS256 (with the public key) or `none` are accepted",
    AuthAllowAnonymous = "auth-allow-anonymous": "RFC 6749 §3.2.1: a token request with no client credentials (at most a bare client_id) is answered",
    AuthAssertionAnyAudience = "auth-assertion-any-audience": "RFC 7523 §3 item 3: a client assertion whose `aud` is another server is accepted",
    AuthAssertionAcceptExpired = "auth-assertion-accept-expired": "RFC 7523 §3 item 4: a client assertion whose `exp` has passed is accepted",
    ErrorNotJson = "error-not-json": "RFC 6749 §5.2: error responses are text/plain instead of JSON",
    ErrorUnsupportedGrantAsInvalidRequest = "error-unsupported-grant-as-invalid-request": "RFC 6749 §5.2: an unknown grant gets invalid_request, not unsupported_grant_type",
    ErrorAcceptAnyContentType = "error-accept-any-content-type": "RFC 6749 §3.2: token requests of any content type are accepted",
    ErrorAcceptDuplicateParams = "error-accept-duplicate-params": "RFC 6749 §3.2: a parameter given twice is accepted",
    RevokeUnknown400 = "revoke-unknown-400": "RFC 7009 §2.2: an unknown token is answered 400 instead of 200",
    RevokeHonourHintStrictly = "revoke-honour-hint-strictly": "RFC 7009 §2.1: a wrong token_type_hint stops the search, the token stays active",
    RevokeBogusHint400 = "revoke-bogus-hint-400": "RFC 7009 §2.1: an unknown token_type_hint value is refused with 400",
    RevokeNoop = "revoke-noop": "RFC 7009 §2.2: revocation answers 200 but the token stays active",
    RevokeNoAuth = "revoke-no-auth": "RFC 7009 §2.1: revocation without client authentication is honoured",
    RevokeAnyClient = "revoke-any-client": "RFC 7009 §2.1: a client may revoke another client's token",
    RevokeNoCascade = "revoke-no-cascade": "RFC 7009 §2.1: tokens exchanged from a revoked token stay active",
    IntrospectNoAuth = "introspect-no-auth": "RFC 7662 §2.1: introspection without caller authentication is answered",
    IntrospectAnyClient = "introspect-any-client": "RFC 7662 §4: any authenticated client may introspect any token",
    IntrospectInactiveExtraMembers = "introspect-inactive-extra-members": "RFC 7662 §2.2: an inactive response carries members besides `active`",
    IntrospectNoVerify = "introspect-no-verify": "RFC 7662 §4: the token signature is not verified (and garbage yields 500)",
    IntrospectIgnoreRevocation = "introspect-ignore-revocation": "RFC 7662 §2.2 / RFC 7009 §2: a revoked token reads active",
    IntrospectIgnoreExpiry = "introspect-ignore-expiry": "RFC 7662 §2.2: an expired token reads active",
    ExchangeDropAct = "exchange-drop-act": "RFC 8693 §4.1: a delegated token carries no `act` claim",
    ExchangeSubIsActor = "exchange-sub-is-actor": "RFC 8693 §4.1: `sub` becomes the actor instead of the subject",
    ExchangeNoIssuedTokenType = "exchange-no-issued-token-type": "RFC 8693 §2.2.1: the response lacks the required issued_token_type",
    ExchangeIgnoreMayAct = "exchange-ignore-may-act": "RFC 8693 §4.4: an actor not named in `may_act` is allowed",
    ExchangeAnyClient = "exchange-any-client": "RFC 8693 §2.1 / §5: any client may exchange a token not issued to or for it",
    ExchangeInvalidTokenError = "exchange-invalid-token-error": "RFC 8693 §2.2.2: a bad subject token gets `invalid_token` instead of invalid_request",
    ExchangeScopeFromClientOnly = "exchange-scope-from-client-only": "RFC 8693 §2.1 / §5: scope is not narrowed by the subject token's scope",
    ExchangeOutliveSubject = "exchange-outlive-subject": "RFC 8693 §5: the new token outlives the subject token",
    ExchangeAllowMissingSubjectTokenType = "exchange-allow-missing-subject-token-type": "RFC 8693 §2.1: subject_token_type is treated as optional",
    ExchangeSubstituteTokenType = "exchange-substitute-token-type": "RFC 8693 §2.1: an unsupported requested_token_type is silently substituted",
    ExchangeDropResource = "exchange-drop-resource": "RFC 8693 §2.1 / RFC 8707 §2: the validated audience is replaced by the client id",
    ExchangeAcceptUntrustedIssuer = "exchange-accept-untrusted-issuer": "RFC 8693 §2.2.2 / RFC 7523 §3: JWTs of untrusted issuers are accepted unverified",
    ExchangeRefreshToken = "exchange-refresh-token": "RFC 8693 §2.2.1: a refresh token is issued for an agent's delegated token",
    IntrospectHonourHintStrictly = "introspect-honour-hint-strictly": "RFC 7662 §2.1: a wrong token_type_hint stops the search, the token reads inactive",
    ExchangeFlattenAct = "exchange-flatten-act": "RFC 8693 §4.1: prior actors are dropped, `act` names only the current actor",
    ExchangeActNonIdentityClaims = "exchange-act-non-identity-claims": "RFC 8693 §4.1: `act` carries `exp` and `aud`, which are not identity claims",
    ExchangeMissingSubjectTokenInvalidGrant = "exchange-missing-subject-token-invalid-grant": "RFC 8693 §2.1 / RFC 6749 §5.2: a missing subject_token gets invalid_grant instead of invalid_request",
    ExchangeAllowMissingActorTokenType = "exchange-allow-missing-actor-token-type": "RFC 8693 §2.1: an actor_token without actor_token_type is accepted",
    ExchangeNoSignatureCheck = "exchange-no-signature-check": "RFC 8693 §2.2.2 / RFC 7515 §5.2: a trusted issuer's subject token is accepted with a bad signature",
    ExchangeAcceptExpiredSubject = "exchange-accept-expired-subject": "RFC 7519 §4.1.4: an expired subject token is accepted",
    ExchangeOmitScope = "exchange-omit-scope": "RFC 8693 §2.2.1: the response omits scope although it differs from the request",
    ExchangeIgnoreClientAllowance = "exchange-ignore-client-allowance": "RFC 9700 §2.3: exchanged scope is not limited by the client's allowance",
    ExchangeIgnoreUnknownTarget = "exchange-ignore-unknown-target": "RFC 8693 §2.2.2: an unknown resource is silently dropped instead of invalid_target",
    GrantTypeNotEnforced = "grant-type-not-enforced": "RFC 6749 §5.2: a client may use a grant type it is not registered for",
    JwtBearerAcceptUntrustedIssuer = "jwt-bearer-accept-untrusted-issuer": "RFC 7523 §3 / §5: an assertion of an issuer that is not a trusted partner is accepted unverified",
    JwtBearerIgnoreAud = "jwt-bearer-ignore-aud": "RFC 7523 §3 item 3: an assertion whose `aud` is another server is accepted",
    JwtBearerAcceptExpired = "jwt-bearer-accept-expired": "RFC 7523 §3 item 4: an assertion whose `exp` has passed is accepted",
    JwtBearerAllowMissingExp = "jwt-bearer-allow-missing-exp": "RFC 7523 §3 item 4: an assertion without `exp` is accepted",
    JwtBearerSkipSignature = "jwt-bearer-skip-signature": "RFC 7523 §3 item 9: a trusted partner's assertion is accepted without verifying its signature",
    JwtBearerAcceptNoneAlg = "jwt-bearer-accept-none-alg": "RFC 7523 §3 item 9 / RFC 8725 §3.1: an unsigned (`alg` none) assertion is accepted",
    JwtBearerAcceptHs256PublicKey = "jwt-bearer-accept-hs256-public-key": "RFC 8725 §2.1 / §3.1: an HS256 assertion keyed with the partner's public key (PEM) is accepted",
    JwtBearerAllowReplay = "jwt-bearer-allow-replay": "RFC 7523 §3 item 7: an assertion `jti` is accepted twice",
    JwtBearerNoKeyRefresh = "jwt-bearer-no-key-refresh": "RFC 7523 §3 item 9 / RFC 7517 §4.5: an unknown `kid` does not refetch the partner's JWK Set, so a rotated key is refused",
    SsfConfigIssuerTrailingSlash = "ssf-config-issuer-trailing-slash": "SSF 1.0 §7.2.4: the transmitter configuration `issuer` differs from the issuer it was fetched for (trailing slash)",
    SsfConfigNoJwksUri = "ssf-config-no-jwks-uri": "SSF 1.0 §7.1: SETs are signed but the transmitter configuration has no jwks_uri",
    SsfStreamNoAuth = "ssf-stream-no-auth": "SSF 1.0 §8: the stream management API answers requests without authorization",
    SsfStreamDeleteNoop = "ssf-stream-delete-noop": "SSF 1.0 §8.1.1.5: deleting a stream answers 204 but the stream lives on",
    SsfSubjectUnknownStreamOk = "ssf-subject-unknown-stream-ok": "SSF 1.0 §8.1.3.2: adding a subject to a stream that does not exist answers 200, not 404",
    SsfNoVerificationEvent = "ssf-no-verification-event": "SSF 1.0 §8.1.4.2: a verification request answers 204 but no verification event is sent",
    SsfPushNoAuthorizationHeader = "ssf-push-no-authorization-header": "SSF 1.0 §6.1.1: pushed SETs lack the stream's authorization_header",
    SsfPollSetsArray = "ssf-poll-sets-array": "RFC 8936 §2.2: a poll response's `sets` is an array, not an object keyed by `jti`",
    SsfNoRevocationEvent = "ssf-no-revocation-event": "CAEP 1.0 §3.1: revoking a token sends no session-revoked event",
    SsfSetUnsigned = "ssf-set-unsigned": "RFC 8417 §2 / SSF 1.0 §4.1.4: SETs are unsigned (`alg` none)",
    SsfSetTypJwt = "ssf-set-typ-jwt": "SSF 1.0 §4.1.1: the SET header `typ` is `JWT`, not `secevent+jwt`",
    SsfSetIssTrailingSlash = "ssf-set-iss-trailing-slash": "SSF 1.0 §4.1.6: the SET `iss` differs from the stream's `iss` (trailing slash)",
    SsfSetWrongAud = "ssf-set-wrong-aud": "SSF 1.0 §4.1.8 / §8.1.1: the SET `aud` is not the stream's `aud`",
    SsfSetTwoEvents = "ssf-set-two-events": "SSF 1.0 §4.2.1: a SET carries two different events",
    SsfSetSubClaim = "ssf-set-sub-claim": "SSF 1.0 §4.1.2: a SET carries a JWT `sub` claim",
    SsfSetExpClaim = "ssf-set-exp-claim": "SSF 1.0 §4.1.7: a SET carries an `exp` claim",
    SsfSubjectJwtDashId = "ssf-subject-jwt-dash-id": "SSF 1.0 §3.5.1: the JWT ID subject format is sent as `jwt-id` (a pre-final draft's name), not `jwt_id`",
    SsfPushDelayed = "ssf-push-delayed": "agent profile (PUSH-010): pushed SETs leave fault_delay_ms (default 2 s) late",
    IntrospectRevocationLag = "introspect-revocation-lag": "agent profile (REV-002): a revoked token introspects active for fault_delay_ms (default 2 s) after revocation",
    AuthAssertionAudTokenEndpointOnly = "auth-assertion-aud-token-endpoint-only": "RFC 7523 §3 item 3: a client assertion whose `aud` is the issuer is refused (only the token endpoint URL is accepted)",
    AuthAssertionIgnoreClientId = "auth-assertion-ignore-client-id": "RFC 7521 §4.2: a `client_id` naming another client than the assertion's `sub` is ignored",
    AuthAssertionRejectTyped = "auth-assertion-reject-typed": "draft-ietf-oauth-rfc7523bis §4: an explicitly typed client assertion (`typ` client-authentication+jwt) is refused",
    AuthAssertionAcceptOwnAccessToken = "auth-assertion-accept-own-access-token": "RFC 8725 §3.11 / RFC 7523 §3: the server's own access token (`typ` at+jwt) is accepted as a client assertion",
    FormKeepEmptyParams = "form-keep-empty-params": "RFC 6749 §3.2: a parameter sent without a value is not treated as omitted (`scope=` grants no scope)",
    CcDefaultScopeAll = "cc-default-scope-all": "RFC 6749 §3.3: a request without `scope` is granted every scope the server knows, beyond the client's allowance",
    ResourceIgnoreFragment = "resource-ignore-fragment": "RFC 8707 §2: a `resource` with a fragment is accepted, the fragment cut off",
    MultiTargetKeepFirst = "multi-target-keep-first": "RFC 8707 §2 / RFC 8693 §2.1: of several resources or audiences only the first is kept, the others silently dropped",
    CcDropResource = "cc-drop-resource": "RFC 8707 §2 / RFC 9068 §3: the client credentials `resource` is validated but the token's `aud` is the client id",
    RevokeAcceptGet = "revoke-accept-get": "RFC 7009 §2.1: a revocation request by GET (token in the query) is honoured",
    RevokeMissingTokenOk = "revoke-missing-token-ok": "RFC 7009 §2.1: a revocation request without `token` is answered 200",
    ExchangeIgnoreRequestedScope = "exchange-ignore-requested-scope": "RFC 8693 §2.1 / RFC 6749 §3.3: a requested subset of the scope is ignored, everything allowed is granted",
    ExchangeReexchangeDropsAct = "exchange-reexchange-drops-act": "RFC 8693 §4.1: re-exchanging a delegated token without an actor_token yields a token with no `act`",
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL.iter().copied().find(|f| f.name() == s).ok_or_else(|| format!("unknown fault `{s}`"))
    }
}

/// The set of enabled faults.
#[derive(Debug, Clone, Default)]
pub struct Faults(HashSet<Fault>);

impl Faults {
    pub fn new(faults: &[Fault]) -> Faults {
        Faults(faults.iter().copied().collect())
    }

    /// Is this fault switched on?
    pub fn has(&self, fault: Fault) -> bool {
        self.0.contains(&fault)
    }
}
