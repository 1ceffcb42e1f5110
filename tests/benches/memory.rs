//! Memory per cached user, against the bytes of the secrets the user's partition holds.
//!
//! `cargo bench -p msal-tests --bench memory` caches 100,000 users with realistic Entra token sizes (two access
//! tokens of 1.5 KiB for two resources, a 1 KiB refresh token, a 1.2 KiB ID token, Entra-shaped ids and
//! account fields), then prints what the process holds per user: counted by the allocator (the bytes asked
//! for) and measured as resident memory (what the kernel charges, allocator overhead included).
//! `MEMORY_USERS=1000000` measures a million. Under `cargo test --benches` it caches 2,000 users, and every run
//! fails if the allocator counts more than 1.3 times the secret bytes per user.

use std::alloc::System;

use cap::Cap;
use msal_runtime::{Authority, TokenCache};
use msal_tests::resident_bytes;
use serde_json::{Map, Value, json};

/// Counts the bytes live on the heap.
#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

const ACCESS_TOKEN: usize = 1536;
const REFRESH_TOKEN: usize = 1024;
const ID_TOKEN: usize = 1229;
/// The secret bytes of one user: two access tokens, a refresh token, an ID token.
const SECRET_BYTES: usize = 2 * ACCESS_TOKEN + REFRESH_TOKEN + ID_TOKEN;

const CLIENT_ID: &str = "mail-app";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// A GUID-shaped id unique to `user`.
fn guid(user: usize, salt: u32) -> String {
    format!("{salt:08x}-0000-4000-8000-{user:012x}")
}

/// A secret of `len` bytes unique to `user` (base64url characters, as a JWT's).
fn secret(user: usize, kind: &str, len: usize) -> String {
    let mut secret = format!("{kind}.{user}.");
    let filler = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9_-";
    while secret.len() < len {
        secret.push_str(&filler[..filler.len().min(len - secret.len())]);
    }
    secret
}

/// One user's partition as MSAL writes it after an Entra sign-in and a call to a second API.
fn user_entries(user: usize, now: u64, cache: &mut [Map<String, Value>; 5]) {
    let uid = guid(user, 0x0001);
    let home = format!("{uid}.{TENANT}");
    let env = "login.microsoftonline.com";
    let [access, refresh, id, accounts, metadata] = cache;
    for (resource, target) in [(0, "Mail.Read User.Read openid profile"), (1, "api://mail-api/Mail.Send")] {
        access.insert(
            format!("{home}-{env}-accesstoken-{CLIENT_ID}-{TENANT}-{}", target.to_lowercase()),
            json!({
                "credential_type": "AccessToken", "secret": secret(user, &format!("at{resource}"), ACCESS_TOKEN),
                "home_account_id": home, "environment": env, "client_id": CLIENT_ID, "realm": TENANT,
                "target": target, "cached_at": now.to_string(), "expires_on": (now + 86_400).to_string(),
                "extended_expires_on": (now + 86_400).to_string(), "token_type": "Bearer"
            }),
        );
    }
    refresh.insert(
        format!("{home}-{env}-refreshtoken-{CLIENT_ID}--"),
        json!({
            "credential_type": "RefreshToken", "secret": secret(user, "rt", REFRESH_TOKEN), "home_account_id": home,
            "environment": env, "client_id": CLIENT_ID, "target": "Mail.Read User.Read openid profile offline_access",
            "last_modification_time": now.to_string()
        }),
    );
    id.insert(
        format!("{home}-{env}-idtoken-{CLIENT_ID}-{TENANT}-"),
        json!({
            "credential_type": "IdToken", "secret": secret(user, "id", ID_TOKEN), "home_account_id": home,
            "environment": env, "realm": TENANT, "client_id": CLIENT_ID
        }),
    );
    let client_info = base64_url(&format!(r#"{{"uid":"{uid}","utid":"{TENANT}"}}"#));
    accounts.insert(
        format!("{home}-{env}-{TENANT}"),
        json!({
            "home_account_id": home, "environment": env, "realm": TENANT, "local_account_id": uid,
            "username": format!("user{user}@contoso.example"), "name": format!("User {user}"),
            "authority_type": "MSSTS", "client_info": client_info, "account_source": "authorization_code"
        }),
    );
    metadata.insert(format!("appmetadata-{env}-{CLIENT_ID}"), json!({ "client_id": CLIENT_ID, "environment": env }));
}

fn base64_url(value: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
}

fn msal_cache(users: std::ops::Range<usize>, now: u64) -> String {
    let mut cache: [Map<String, Value>; 5] = Default::default();
    for user in users {
        user_entries(user, now, &mut cache);
    }
    let [access, refresh, id, accounts, metadata] = cache;
    json!({ "AccessToken": access, "RefreshToken": refresh, "IdToken": id, "Account": accounts,
            "AppMetadata": metadata })
    .to_string()
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let users: usize = match std::env::var("MEMORY_USERS") {
        Ok(users) => users.parse().expect("MEMORY_USERS is a number of users"),
        Err(_) if full => 100_000,
        Err(_) => 2_000,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        // The app's in-memory store, for an Entra authority (the entries are Entra's): a cache of no runtime.
        let entra = Authority::parse("https://login.microsoftonline.com/common/v2.0").unwrap();
        let cache = &TokenCache::detached(&entra, CLIENT_ID, std::num::NonZeroUsize::new(2 * users).unwrap());
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        // Warm up what every user shares (scope and string symbols), so that it is not charged to the users.
        cache.import_msal_json(&msal_cache(users..users + 1, now)).await.unwrap();
        let (live_before, resident_before) = (ALLOCATOR.allocated(), resident_bytes());
        // Small batches: the JSON of a batch is garbage once imported, and should not be what is measured.
        for first in (0..users).step_by(1_000) {
            let batch = msal_cache(first..users.min(first + 1_000), now);
            assert_eq!(cache.import_msal_json(&batch).await.unwrap().accounts.len(), users.min(first + 1_000) - first);
        }
        let (live_after, resident_after) = (ALLOCATOR.allocated(), resident_bytes());
        assert_eq!(cache.account_count().await.unwrap(), users + 1);

        let counted = (live_after as f64 - live_before as f64) / users as f64;
        let resident = (resident_after as f64 - resident_before as f64) / users as f64;
        println!("memory per cached user, {users} users, {SECRET_BYTES} secret bytes each:");
        println!("  allocated: {counted:>8.0} bytes = {:.2}x the secrets", counted / SECRET_BYTES as f64);
        println!("  resident:  {resident:>8.0} bytes = {:.2}x the secrets", resident / SECRET_BYTES as f64);
        println!("  total resident for the cache: {:.0} MiB", (resident_after - resident_before) as f64 / 1048576.0);
        // The allocator's count is exact at any size, where resident memory of a few thousand users is mostly
        // the allocator's arenas: the count is what guards against a regression, on every run.
        assert!(counted <= 1.3 * SECRET_BYTES as f64, "a cached user costs {counted:.0} bytes");
    });
}
