//! The token cache shared with the real MSAL libraries, MSAL Python and msal-node (pinned, installed by
//! scripts/test), in both directions:
//!
//! - a generic OpenID Connect authority (the test provider at `/idp`): a cache written by this runtime's
//!   sign-in is served by their `acquire_token_silent` with no request, their refresh spends our refresh
//!   token at the provider, and their cache (with an app-only token in it) is imported and served by this
//!   runtime without a provider call, then refreshed with their refresh token;
//! - Entra ID, which cannot be reached from here: a cache each library writes from a recorded Entra token
//!   response (client_info, tenant realm, `login.microsoftonline.com`), with an app-only token, imported by a
//!   cache of an Entra authority and exported again for both libraries' silent acquisition.
//!
//! The libraries require https authorities; they see the provider as `https://127.0.0.1/idp`, bridged to its
//! plain-http loopback address (see tests/interop/python/msal_cache.py). The runtime's environment is the
//! issuer's host without its port (as MSAL Python writes it), so both name the same environment.

use std::num::NonZeroUsize;

use msal_runtime::error::SkipReason;
use msal_runtime::{Authority, ClientAuthMethod, HomeAccountId, ScopeSet, TokenCache};
use msal_tests::interop::{Library, bridge, client_info, offline, unsigned_jwt};
use msal_tests::{AppListener, Browser, IdpSettings, TestApp, cache_entries};
use serde_json::{Value, json};

/// What the libraries are told the authority is.
const PUBLIC_AUTHORITY: &str = "https://127.0.0.1/idp";

/// `mail-app-post`: MSAL libraries authenticate confidential clients with `client_secret_post`.
async fn app_at_idp_path() -> TestApp {
    let listener = AppListener::bind().await;
    let idp = listener.start_idp_at_path("/idp").await;
    let config = listener
        .config(&idp)
        .client_id("mail-app-post")
        .client_secret("mail-app-post-secret")
        .client_auth_method(ClientAuthMethod::ClientSecretPost)
        .initial_scopes(["Mail.Read"]);
    listener.serve(idp, config).await
}

/// The provider's discovery document as the libraries see it through the bridge.
async fn public_discovery(app: &TestApp) -> Value {
    let real = &app.idp.issuer;
    let text = reqwest::get(format!("{real}/.well-known/openid-configuration")).await.unwrap().text().await.unwrap();
    serde_json::from_str(&text.replace(real.as_str(), PUBLIC_AUTHORITY)).unwrap()
}

fn generic_request(command: &str, cache: &str, http: Value) -> Value {
    json!({
        "command": command, "authority": { "oidc": PUBLIC_AUTHORITY },
        "client_id": "mail-app-post", "client_secret": "mail-app-post-secret",
        "cache": cache, "scopes": ["Mail.Read"], "http": http,
    })
}

fn mail_read() -> ScopeSet {
    ScopeSet::parse("Mail.Read").unwrap()
}

async fn generic_authority_both_ways(library: Library) {
    let app = app_at_idp_path().await;
    // MSAL libraries refresh with `openid profile offline_access` added, which Entra accepts and this
    // standard provider refuses unless told to accept them as Entra does.
    app.idp.settings(IdpSettings::new().refresh_tokens_accept_reserved_scopes(true)).await;
    let browser = Browser::new();
    app.sign_in(&browser, "/", "alice").await;
    let key = app.account(&browser).await;
    let ours = app.msal.token_cache().export_msal_json(&key).await.unwrap().unwrap();
    let ours_json: Value = serde_json::from_str(&ours).unwrap();
    let account = &cache_entries(&ours_json, "Account")[0];
    assert_eq!(
        (&account["home_account_id"], &account["environment"], &account["realm"], &account["authority_type"]),
        (&json!("alice"), &json!("127.0.0.1"), &json!("idp"), &json!("MSSTS")),
        "what MSAL libraries write for an OpenID Connect authority"
    );
    let our_token = cache_entries(&ours_json, "AccessToken")[0]["secret"].as_str().unwrap().to_owned();

    // Ours, served by theirs from the cache: no token request (their HTTP fails on any).
    let discovery =
        json!({ format!("{PUBLIC_AUTHORITY}/.well-known/openid-configuration"): public_discovery(&app).await });
    let served = library.run(&generic_request("silent", &ours, offline(discovery.clone(), json!({})))).await;
    assert_eq!(served.accounts.len(), 1, "{:?}", served.raw);
    assert_eq!(served.accounts[0]["home_account_id"], "alice");
    assert_eq!(served.access_token.as_deref(), Some(our_token.as_str()), "{}", served.raw);
    assert!(served.from_cache && served.token_requests().is_empty(), "{:?}", served.requests);

    // Their refresh with our refresh token, at the provider.
    let refreshes = app.idp.grants("refresh_token").await;
    let mut request = generic_request("silent", &ours, bridge(PUBLIC_AUTHORITY, &app.idp.issuer));
    request["force_refresh"] = json!(true);
    let refreshed = library.run(&request).await;
    let their_token = refreshed.access_token.clone().unwrap_or_else(|| panic!("{library:?}: {}", refreshed.raw));
    assert_ne!(their_token, our_token);
    assert!(!refreshed.from_cache && refreshed.token_requests().len() == 1, "{:?}", refreshed.requests);
    assert_eq!(app.idp.grants("refresh_token").await, refreshes + 1);

    // Their cache, with an app-only token in it as their client-credentials call writes it (answered offline).
    let token_endpoint = format!("{PUBLIC_AUTHORITY}/token");
    let app_only_response = json!({ "access_token": "app-only-token", "token_type": "Bearer", "expires_in": 3600 });
    let with_app_only = library
        .run(&generic_request(
            "client_credentials",
            &refreshed.cache,
            offline(discovery, json!({ token_endpoint: app_only_response })),
        ))
        .await;
    assert_eq!(with_app_only.access_token.as_deref(), Some("app-only-token"), "{}", with_app_only.raw);
    let theirs = with_app_only.cache;

    // Theirs, imported by us over ours: the same partition, the app-only token skipped, the rest kept; their
    // rotated refresh token and newer access token replace ours (ours is spent).
    let cache = app.msal.token_cache();
    let report = cache.import_msal_json(&theirs).await.unwrap();
    assert_eq!(report.accounts, std::slice::from_ref(&key), "{report:?}");
    assert_eq!(cache.account_key("alice"), key);
    assert!(report.skipped.iter().any(|skipped| skipped.reason == SkipReason::AppOnly), "{report:?}");
    assert!(report.skipped.iter().all(|skipped| skipped.reason == SkipReason::AppOnly), "{report:?}");

    // Served by us without a provider call.
    let token_requests = app.idp.requests("POST /token").await;
    let token = app.msal.acquire_token_silent(&key, &mail_read()).await.unwrap();
    assert_eq!(token.secret(), their_token);
    assert_eq!(app.idp.requests("POST /token").await, token_requests);

    // And refreshed by us with their refresh token: the refreshed ID token names the same user.
    let mut without_access_tokens: Value = serde_json::from_str(&theirs).unwrap();
    without_access_tokens["AccessToken"] = json!({});
    cache.remove_account(&key).await.unwrap();
    cache.import_msal_json(&without_access_tokens.to_string()).await.unwrap();
    let token = app.msal.acquire_token_silent(&key, &mail_read()).await.unwrap();
    assert_ne!(token.secret(), their_token);
    assert_eq!(app.idp.grants("refresh_token").await, refreshes + 2);
    assert_eq!(app.idp.grant_errors().await, json!({}));
    // The page that needs the token works for the signed-in user.
    let inbox = browser.get(app.url("/mail")).await;
    assert_eq!(inbox.status(), 200, "{}", inbox.text().await.unwrap());
}

#[tokio::test]
async fn msal_python_and_this_runtime_share_a_generic_authoritys_cache() {
    generic_authority_both_ways(Library::Python).await;
}

#[tokio::test]
async fn msal_node_and_this_runtime_share_a_generic_authoritys_cache() {
    generic_authority_both_ways(Library::Node).await;
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OID: &str = "00000000-0000-0000-66f3-3332eca7ea81";
const ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47";
const ENTRA_CLIENT: &str = "11111111-2222-3333-4444-555555555555";

/// Entra's metadata, as its instance discovery and discovery endpoints answer (recorded, shortened).
fn entra_metadata() -> Value {
    let discovery = json!({
        "issuer": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "authorization_endpoint": format!("{ENTRA_AUTHORITY}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{ENTRA_AUTHORITY}/oauth2/v2.0/token"),
        "end_session_endpoint": format!("{ENTRA_AUTHORITY}/oauth2/v2.0/logout"),
        "jwks_uri": format!("{ENTRA_AUTHORITY}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
    });
    let aliases = ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"];
    let instance = json!({
        "tenant_discovery_endpoint": format!("{ENTRA_AUTHORITY}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{ "preferred_network": "login.microsoftonline.com", "preferred_cache": "login.windows.net",
                       "aliases": aliases }],
    });
    // MSAL Python looks for tokens of an alias (msal-node writes `preferred_cache`, login.windows.net) with an
    // authority of that host, whose discovery document it reads first.
    let alias_discovery: Value =
        serde_json::from_str(&discovery.to_string().replace("login.microsoftonline.com", "login.windows.net")).unwrap();
    json!({
        format!("{ENTRA_AUTHORITY}/v2.0/.well-known/openid-configuration"): discovery,
        format!("https://login.windows.net/{TENANT}/v2.0/.well-known/openid-configuration"): alias_discovery,
        "https://login.microsoftonline.com/common/discovery/instance": instance,
    })
}

/// An Entra token response for Megan (recorded shape: client_info, tid, oid; secrets made up).
fn entra_token_response() -> Value {
    let id_token = unsigned_jwt(&json!({
        "aud": ENTRA_CLIENT, "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "iat": 1_700_000_000, "nbf": 1_700_000_000, "exp": 4_000_000_000u64,
        "name": "Megan Bowen", "oid": OID, "preferred_username": "megan@contoso.example",
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "tid": TENANT, "ver": "2.0",
    }));
    json!({
        "token_type": "Bearer", "scope": "Mail.Read User.Read openid profile", "expires_in": 3600,
        "ext_expires_in": 3600, "access_token": "entra-access-token", "refresh_token": "entra-refresh-token",
        "id_token": id_token, "client_info": client_info(OID, TENANT),
    })
}

fn entra_request(command: &str, cache: Option<&str>, http: Value) -> Value {
    json!({
        "command": command, "authority": { "entra": ENTRA_AUTHORITY },
        "client_id": ENTRA_CLIENT, "client_secret": "entra-secret", "cache": cache,
        "scopes": ["Mail.Read"], "http": http,
        "code": "recorded-code", "redirect_uri": "https://app.contoso.example/auth/callback",
    })
}

/// A cache `library` writes from an Entra sign-in (and an app-only token), with no network.
async fn entra_cache_written_by(library: Library) -> String {
    let token_endpoint = format!("{ENTRA_AUTHORITY}/oauth2/v2.0/token");
    let signed_in = library
        .run(&entra_request(
            "authorization_code",
            None,
            offline(entra_metadata(), json!({ token_endpoint.clone(): entra_token_response() })),
        ))
        .await;
    assert_eq!(signed_in.access_token.as_deref(), Some("entra-access-token"), "{}", signed_in.raw);
    let app_only = json!({ "access_token": "entra-app-only", "token_type": "Bearer", "expires_in": 3600 });
    let mut request = entra_request(
        "client_credentials",
        Some(&signed_in.cache),
        offline(entra_metadata(), json!({ token_endpoint: app_only })),
    );
    request["scopes"] = json!(["https://graph.microsoft.com/.default"]);
    let with_app_only = library.run(&request).await;
    assert_eq!(with_app_only.access_token.as_deref(), Some("entra-app-only"), "{}", with_app_only.raw);
    with_app_only.cache
}

#[tokio::test]
async fn entra_caches_of_both_libraries_are_imported_and_served_back_to_both() {
    let authority = Authority::parse(&format!("https://login.microsoftonline.com/{TENANT}/v2.0")).unwrap();
    for writer in Library::ALL {
        let theirs = entra_cache_written_by(writer).await;
        let cache = TokenCache::detached(&authority, ENTRA_CLIENT, NonZeroUsize::new(10).unwrap());
        let report = cache.import_msal_json(&theirs).await.unwrap();
        let megan = HomeAccountId::new(format!("{OID}.{TENANT}"));
        assert_eq!(report.accounts, std::slice::from_ref(&megan), "{writer:?}: {report:?}");
        assert_eq!(cache.account_key(&format!("{OID}.{TENANT}")), megan);
        assert!(
            report.skipped.iter().any(|skipped| skipped.reason == SkipReason::AppOnly),
            "{writer:?}: the app-only token is skipped, not a reason to refuse the rest: {report:?}"
        );
        let ours = cache.export_msal_json(&megan).await.unwrap().unwrap();
        for reader in Library::ALL {
            let served = reader.run(&entra_request("silent", Some(&ours), offline(entra_metadata(), json!({})))).await;
            assert_eq!(served.accounts.len(), 1, "{writer:?} → us → {reader:?}: {}", served.raw);
            assert_eq!(served.accounts[0]["home_account_id"], format!("{OID}.{TENANT}"));
            assert_eq!(
                served.access_token.as_deref(),
                Some("entra-access-token"),
                "{writer:?} → us → {reader:?}: {}",
                served.raw
            );
            assert!(served.from_cache && served.token_requests().is_empty(), "{:?}", served.requests);
        }
    }
}
