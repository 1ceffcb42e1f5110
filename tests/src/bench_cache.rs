//! MSAL caches of many users, for the benchmarks: each user `user<n>.bench` with a 1 KiB access token for
//! `Mail.Read`, valid for a day.

use serde_json::{Map, json};

/// The access token of `user`: 1 KiB, unique to the user.
pub fn secret(user: usize) -> String {
    let mut secret = format!("at.{user}.");
    secret.extend(std::iter::repeat_n('x', 1024 - secret.len()));
    secret
}

/// An MSAL cache with `count` users, each with a 1 KiB access token for Mail.Read valid for a day.
pub fn msal_cache(first: usize, count: usize, client_id: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (mut access, mut refresh, mut accounts) = (Map::new(), Map::new(), Map::new());
    for user in first..first + count {
        let home = format!("user{user}.bench");
        access.insert(
            format!("{home}-at"),
            json!({
                "credential_type": "AccessToken", "secret": secret(user), "home_account_id": home,
                "environment": "127.0.0.1", "client_id": client_id, "realm": "bench", "target": "Mail.Read",
                "cached_at": now.to_string(), "expires_on": (now + 86_400).to_string(),
                "extended_expires_on": (now + 86_400).to_string(), "token_type": "Bearer"
            }),
        );
        refresh.insert(
            format!("{home}-rt"),
            json!({
                "credential_type": "RefreshToken", "secret": "refresh", "home_account_id": home,
                "environment": "127.0.0.1", "client_id": client_id
            }),
        );
        accounts.insert(
            format!("{home}-account"),
            json!({
                "home_account_id": home, "environment": "127.0.0.1", "realm": "bench",
                "local_account_id": format!("user{user}"), "username": "", "authority_type": "Generic"
            }),
        );
    }
    json!({ "AccessToken": access, "RefreshToken": refresh, "Account": accounts }).to_string()
}
