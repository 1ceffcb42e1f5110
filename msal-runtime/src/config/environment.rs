//! The configuration from environment variables (`MSAL_*`), for apps that take their settings from the
//! environment; errors name the variable.

use crate::config::builder::{KeyInput, MsalConfigBuilder};
use crate::config::error::ConfigError;
use crate::config::settings::{MsalConfig, ResponseMode};
use crate::provider::credential::{ClientAuthMethod, ClientSecret};

impl MsalConfig {
    /// Reads the configuration from the environment:
    ///
    /// | variable | |
    /// |---|---|
    /// | `MSAL_AUTHORITY` | issuer URL; `https://login.microsoftonline.com/<tenant>/v2.0` means Entra ID |
    /// | `MSAL_CLIENT_ID` | the app's client id |
    /// | `MSAL_CLIENT_SECRET` | the app's client secret |
    /// | `MSAL_REDIRECT_URI` | full callback URL; the callback is mounted at its path |
    /// | `MSAL_COOKIE_KEY` | optional: base64 of 64 random bytes; instances sharing a store share it |
    /// | `MSAL_TOKEN_CACHE` | optional: `memory`, `redis://…`/`rediss://…`, or a file path; unset: the embedded store at `msal-data/msal.sqlite3` |
    /// | `MSAL_STORE_KEYS` | optional: base64 of 32 random bytes each, newest first; required with Redis |
    /// | `MSAL_SCOPES` | optional: space-separated scopes to ask for at sign-in |
    /// | `MSAL_CLIENT_AUTH_METHOD` | optional: `client_secret_basic` or `client_secret_post` |
    /// | `MSAL_RESPONSE_MODE` | optional: `query` (default) or `form_post` |
    /// | `MSAL_POST_LOGOUT_REDIRECT_URI` | optional: where the provider sends the user after sign-out |
    /// | `MSAL_DECLARED_SCOPES` | optional: the scopes the app registration has; others used by handlers are warned about |
    /// | `MSAL_ALLOWED_SCOPES` | optional: scopes `/auth/signin?scope=…` accepts besides the handlers' and `MSAL_SCOPES` |
    /// | `MSAL_CLIENT_CAPABILITIES` | optional: capabilities the client declares, such as `cp1` (it handles claims challenges) |
    /// | `MSAL_TRUSTED_ORIGINS` | optional: other origins whose form posts and scripts signed-in users may send |
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with another source of variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        builder_from(lookup)?.build()
    }
}

impl MsalConfigBuilder {
    /// A builder holding what the `MSAL_*` variables say ([`MsalConfig::from_env`] lists them), for settings
    /// made in code on top; errors name the variables. A web API configured from the environment, for
    /// example: `MsalConfigBuilder::from_env()?.without_sign_in().build()?`.
    pub fn from_env() -> Result<Self, ConfigError> {
        builder_from(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with another source of variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        builder_from(lookup)
    }
}

/// A builder holding what the `MSAL_*` variables of `lookup` say; blank values count as unset.
fn builder_from(lookup: impl Fn(&str) -> Option<String>) -> Result<MsalConfigBuilder, ConfigError> {
    let var = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let mut builder = MsalConfigBuilder { from_env: true, ..MsalConfigBuilder::default() };
    builder.authority = var("MSAL_AUTHORITY");
    builder.client_id = var("MSAL_CLIENT_ID");
    builder.client_secret = var("MSAL_CLIENT_SECRET").map(ClientSecret::new);
    builder.redirect_uri = var("MSAL_REDIRECT_URI");
    builder.cookie_key = var("MSAL_COOKIE_KEY").map(KeyInput::Base64);
    builder.token_cache = var("MSAL_TOKEN_CACHE");
    if let Some(keys) = var("MSAL_STORE_KEYS") {
        let keys = keys.split(|c: char| c == ',' || c.is_whitespace()).filter(|key| !key.is_empty());
        builder.store_keys = keys.map(|key| KeyInput::Base64(key.to_owned())).collect();
    }
    builder.post_logout_redirect_uri = var("MSAL_POST_LOGOUT_REDIRECT_URI");
    if let Some(scopes) = var("MSAL_DECLARED_SCOPES") {
        builder.declared_scopes = Some(scopes.split_whitespace().map(str::to_owned).collect());
    }
    if let Some(scopes) = var("MSAL_ALLOWED_SCOPES") {
        builder.allowed_scopes = scopes.split_whitespace().map(str::to_owned).collect();
    }
    if let Some(origins) = var("MSAL_TRUSTED_ORIGINS") {
        let origins = origins.split(|c: char| c == ',' || c.is_whitespace()).filter(|origin| !origin.is_empty());
        builder.trusted_origins = origins.map(str::to_owned).collect();
    }
    if let Some(capabilities) = var("MSAL_CLIENT_CAPABILITIES") {
        let capabilities = capabilities.split(|c: char| c == ',' || c.is_whitespace()).filter(|c| !c.is_empty());
        builder.client_capabilities = capabilities.map(str::to_owned).collect();
    }
    if let Some(scopes) = var("MSAL_SCOPES") {
        builder.initial_scopes = scopes.split_whitespace().map(str::to_owned).collect();
    }
    if let Some(method) = var("MSAL_CLIENT_AUTH_METHOD") {
        builder.client_auth_method = Some(match method.as_str() {
            "client_secret_basic" => ClientAuthMethod::ClientSecretBasic,
            "client_secret_post" => ClientAuthMethod::ClientSecretPost,
            _ => {
                return Err(ConfigError::Choice {
                    setting: "MSAL_CLIENT_AUTH_METHOD",
                    value: method,
                    expected: "client_secret_basic, client_secret_post",
                });
            }
        });
    }
    if let Some(mode) = var("MSAL_RESPONSE_MODE") {
        builder.response_mode = match mode.as_str() {
            "query" => ResponseMode::Query,
            "form_post" => ResponseMode::FormPost,
            _ => {
                return Err(ConfigError::Choice {
                    setting: "MSAL_RESPONSE_MODE",
                    value: mode,
                    expected: "query, form_post",
                });
            }
        };
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::builder::MsalConfigBuilder;
    use crate::config::error::ConfigError;
    use crate::config::settings::{DEFAULT_STORE_PATH, MsalConfig, ResponseMode, TokenCacheSetting};
    use crate::provider::credential::{ClientAuthMethod, CredentialSetting};
    use crate::scope::set::ScopeSet;

    fn env(pairs: &[(&str, &str)]) -> Result<MsalConfig, ConfigError> {
        let vars: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        MsalConfig::from_lookup(|name| vars.get(name).cloned())
    }

    const BASE: [(&str, &str); 4] = [
        ("MSAL_AUTHORITY", "https://login.microsoftonline.com/common/v2.0"),
        ("MSAL_CLIENT_ID", "11111111-2222-3333-4444-555555555555"),
        ("MSAL_CLIENT_SECRET", "s3cret"),
        ("MSAL_REDIRECT_URI", "https://app.example/auth/callback"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Result<MsalConfig, ConfigError> {
        let mut pairs: Vec<_> = BASE.to_vec();
        for (name, value) in extra {
            pairs.retain(|(n, _)| n != name);
            pairs.push((name, value));
        }
        env(&pairs)
    }

    #[test]
    fn reads_the_contract_variables() {
        let config = env(&BASE).unwrap();
        assert!(config.authority.is_entra());
        assert_eq!(config.callback_path(), Some("/auth/callback"));
        assert!(config.secure_cookies);
        assert_eq!(config.sign_in.as_ref().unwrap().post_logout_redirect_uri.as_str(), "https://app.example/");
        assert_eq!(config.token_cache, TokenCacheSetting::Embedded(DEFAULT_STORE_PATH.into()));
        assert!(config.cookie_key.is_none());
        // The secret never shows in Debug output.
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn names_the_missing_variable() {
        for name in ["MSAL_AUTHORITY", "MSAL_CLIENT_ID", "MSAL_CLIENT_SECRET", "MSAL_REDIRECT_URI"] {
            let pairs: Vec<_> = BASE.iter().copied().filter(|(n, _)| *n != name).collect();
            let error = env(&pairs).unwrap_err();
            assert_eq!(error.to_string(), format!("{name} is required"));
        }
        let error = with(&[("MSAL_CLIENT_ID", "  ")]).unwrap_err();
        assert_eq!(error.to_string(), "MSAL_CLIENT_ID is required");
    }

    #[test]
    fn explains_bad_values() {
        let cases: [(&str, &str, &str); 15] = [
            (
                "MSAL_AUTHORITY",
                "login.microsoftonline.com/common",
                "MSAL_AUTHORITY: \"login.microsoftonline.com/common\" is not a URL",
            ),
            ("MSAL_AUTHORITY", "http://idp.example", "MSAL_AUTHORITY: \"http://idp.example\" must use https"),
            (
                "MSAL_REDIRECT_URI",
                "http://app.example/cb",
                "MSAL_REDIRECT_URI: \"http://app.example/cb\" must be https",
            ),
            (
                "MSAL_REDIRECT_URI",
                "https://app.example/cb#x",
                "MSAL_REDIRECT_URI: \"https://app.example/cb#x\" must be https",
            ),
            ("MSAL_REDIRECT_URI", "/auth/callback", "MSAL_REDIRECT_URI: \"/auth/callback\" is not an absolute URL"),
            (
                "MSAL_REDIRECT_URI",
                "https://app.example/auth/signin",
                "MSAL_REDIRECT_URI: the callback path \"/auth/signin\" is taken",
            ),
            ("MSAL_COOKIE_KEY", "not base64!", "MSAL_COOKIE_KEY is not valid base64"),
            ("MSAL_COOKIE_KEY", "c2hvcnQ=", "MSAL_COOKIE_KEY must decode to 64 bytes, found 5"),
            ("MSAL_TOKEN_CACHE", "redis://127.0.0.1:6379", "MSAL_STORE_KEYS is required with a Redis store"),
            ("MSAL_TOKEN_CACHE", "redis://:pw@", "MSAL_TOKEN_CACHE: not a valid Redis URL"),
            ("MSAL_TOKEN_CACHE", "postgres://db/msal", "MSAL_TOKEN_CACHE: an unknown kind of store URL"),
            ("MSAL_TOKEN_CACHE", "/var/lib/app/", "MSAL_TOKEN_CACHE: a directory, not a file path"),
            ("MSAL_STORE_KEYS", "c2hvcnQ=", "MSAL_STORE_KEYS: key 1 is not base64 of 32 bytes"),
            (
                "MSAL_CLIENT_CAPABILITIES",
                "cp1, cp\"2",
                "MSAL_CLIENT_CAPABILITIES: \"cp\\\"2\" is not one of capability names such as cp1",
            ),
            ("MSAL_SCOPES", "Mail.Read openid", "MSAL_SCOPES: `openid` is always requested by the runtime"),
        ];
        for (name, value, expected) in cases {
            let error = with(&[(name, value)]).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{name}={value:?}: {error}");
        }
        // Redis needs the cookie key too; the error never shows the URL's password.
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let error = with(&[("MSAL_TOKEN_CACHE", "redis://:hunter2@cache:6379"), ("MSAL_STORE_KEYS", key)]);
        assert_eq!(
            error.unwrap_err().to_string(),
            "MSAL_COOKIE_KEY is required with a Redis store (every instance must seal and name entries alike)"
        );
        let redis = with(&[
            ("MSAL_TOKEN_CACHE", "rediss://:hunter2@cache:6380/0"),
            (
                "MSAL_STORE_KEYS",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=, AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            ),
            (
                "MSAL_COOKIE_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
            ),
        ])
        .unwrap();
        assert!(matches!(redis.token_cache, TokenCacheSetting::Redis(_)));
        assert_eq!(redis.store_keys.0.len(), 2);
        let shown = format!("{redis:?}");
        assert!(!shown.contains("hunter2") && shown.contains("Redis(rediss://cache:6380)"), "{shown}");
        assert!(matches!(with(&[("MSAL_TOKEN_CACHE", "memory")]).unwrap().token_cache, TokenCacheSetting::Memory));
        assert_eq!(
            with(&[("MSAL_TOKEN_CACHE", "/var/lib/app/msal.db")]).unwrap().token_cache,
            TokenCacheSetting::Embedded("/var/lib/app/msal.db".into())
        );
        let error = with(&[("MSAL_RESPONSE_MODE", "fragment")]).unwrap_err().to_string();
        assert_eq!(error, "MSAL_RESPONSE_MODE: \"fragment\" is not one of query, form_post");
    }

    #[test]
    fn loopback_http_is_development_and_gets_plain_cookies() {
        let config = with(&[
            ("MSAL_AUTHORITY", "http://127.0.0.1:4000"),
            ("MSAL_REDIRECT_URI", "http://127.0.0.1:3000/auth/callback"),
            (
                "MSAL_COOKIE_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==",
            ),
            ("MSAL_SCOPES", "Mail.Read  Mail.Send"),
            ("MSAL_RESPONSE_MODE", "form_post"),
            ("MSAL_CLIENT_AUTH_METHOD", "client_secret_post"),
        ])
        .unwrap();
        assert!(!config.secure_cookies);
        assert!(config.cookie_key.is_some());
        assert_eq!(config.initial_scopes, ScopeSet::parse("Mail.Read Mail.Send").unwrap());
        assert_eq!(config.response_mode, ResponseMode::FormPost);
        assert!(matches!(
            config.credential,
            CredentialSetting::Secret { method: Some(ClientAuthMethod::ClientSecretPost), .. }
        ));
    }

    #[test]
    fn a_web_api_takes_its_settings_from_the_environment_and_signs_no_one_in() {
        let vars: HashMap<&str, &str> = BASE[..3].iter().copied().collect();
        let builder = || MsalConfigBuilder::from_lookup(|name| vars.get(name).map(|v| v.to_string())).unwrap();
        let config = builder().without_sign_in().build().unwrap();
        assert_eq!((config.client_id.as_str(), config.callback_path()), ("11111111-2222-3333-4444-555555555555", None));
        // Without it the redirect URI is missing, and the error names the variable.
        assert_eq!(builder().build().unwrap_err().to_string(), "MSAL_REDIRECT_URI is required");
        let with_redirect: HashMap<&str, &str> = BASE.iter().copied().collect();
        let error = MsalConfigBuilder::from_lookup(|name| with_redirect.get(name).map(|v| v.to_string()))
            .unwrap()
            .without_sign_in()
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "MSAL_REDIRECT_URI is a sign-in setting, and this runtime was built without_sign_in()"
        );
    }
}
