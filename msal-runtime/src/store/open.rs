//! Opening the store the configuration names, with its keys (README, "Choosing a store").
//!
//! With the embedded store and no configured keys, the keys are generated once and kept in a file beside the
//! database (`<file>.keys`, readable by its owner only), so that a restarted app still opens its cookies and
//! its stored entries: ASP.NET's data-protection key ring does the same. Several processes starting at once
//! agree on one key file (it is created complete, or not at all).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::config::settings::{MsalConfig, TokenCacheSetting};
use crate::random::random_bytes;
use crate::store::Shared;
use crate::store::error::StoreError;
use crate::store::observed::Observed;
use crate::store::redis::{RedisOptions, RedisStore};
use crate::store::sealing::{STORE_KEY_LEN, StoreKeys};
use crate::store::shared::SharedStore;
use crate::store::sqlite::{SqliteOptions, SqliteStore};
use crate::web::cookies::COOKIE_KEY_LEN;

/// The stores an app opened.
#[derive(Debug, Default)]
pub(crate) struct Opened {
    /// `None`: in process memory only.
    pub(crate) shared: Option<Shared>,
    /// The cookie key kept beside the embedded store, when none is configured.
    pub(crate) cookie_key: Option<cookie::Key>,
}

/// Opens the configured store.
pub(crate) async fn open(config: &MsalConfig) -> Result<Opened, StoreError> {
    let namespace = &config.client_id;
    match &config.token_cache {
        TokenCacheSetting::Memory => Ok(Opened::default()),
        TokenCacheSetting::Redis(url) => {
            let options = RedisOptions { timeout: config.store_timeout, ..RedisOptions::default() };
            let store: Arc<dyn SharedStore> = Arc::new(Observed(Arc::new(RedisStore::connect(url, options).await?)));
            let keys = Arc::new(StoreKeys::new(&config.store_keys.0, namespace));
            Ok(Opened { shared: Some(Shared { store, keys }), cookie_key: None })
        }
        TokenCacheSetting::Embedded(path) => {
            let options = SqliteOptions { timeout: config.store_timeout, ..SqliteOptions::default() };
            let store: Arc<dyn SharedStore> = Arc::new(Observed(Arc::new(SqliteStore::open(path, options).await?)));
            let (store_keys, cookie_key) = if config.store_keys.0.is_empty() || config.cookie_key.is_none() {
                let kept = kept_keys(&key_file(path)).await?;
                let ring =
                    if config.store_keys.0.is_empty() { vec![kept.store_key] } else { config.store_keys.0.clone() };
                (ring, Some(cookie::Key::from(&kept.cookie_key)))
            } else {
                (config.store_keys.0.clone(), None)
            };
            let keys = Arc::new(StoreKeys::new(&store_keys, namespace));
            Ok(Opened { shared: Some(Shared { store, keys }), cookie_key })
        }
    }
}

/// `<database>.keys`.
fn key_file(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".keys");
    database.with_file_name(name)
}

/// Keys kept beside the embedded store. `Debug` shows no key.
struct KeptKeys {
    store_key: [u8; STORE_KEY_LEN],
    cookie_key: [u8; COOKIE_KEY_LEN],
}

impl std::fmt::Debug for KeptKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeptKeys(..)")
    }
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    store_key: String,
    cookie_key: String,
}

/// The keys in `path`, created if absent.
async fn kept_keys(path: &Path) -> Result<KeptKeys, StoreError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || read_or_create(&path)).await.map_err(StoreError::unavailable)?
}

fn read_or_create(path: &Path) -> Result<KeptKeys, StoreError> {
    let unavailable = |what: &str, error: std::io::Error| {
        StoreError::Unavailable(format!("{what} {}: {error}", path.display()).into())
    };
    if !path.exists() {
        let generated = KeyFile {
            store_key: STANDARD.encode(random_bytes::<STORE_KEY_LEN>()),
            cookie_key: STANDARD.encode(random_bytes::<COOKIE_KEY_LEN>()),
        };
        let json = serde_json::to_vec_pretty(&generated).expect("keys serialize");
        // Written whole to a file of its own, then linked into place: the link fails if another process got
        // there first, and nobody ever reads a half-written key file.
        let temporary = path.with_extension(format!("keys.{}", hex(&random_bytes::<8>())));
        write_private(&temporary, &json).map_err(|error| unavailable("cannot write the key file", error))?;
        let linked = std::fs::hard_link(&temporary, path);
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => {
                tracing::info!(path = ?path, "generated the store and cookie keys; back this file up with the store")
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(unavailable("cannot create the key file", error)),
        }
    }
    let text = std::fs::read(path).map_err(|error| unavailable("cannot read the key file", error))?;
    let malformed = || StoreError::Unavailable(format!("the key file {} is not a key file", path.display()).into());
    let file: KeyFile = serde_json::from_slice(&text).map_err(|_| malformed())?;
    let decode = |text: &str| STANDARD.decode(text).ok();
    Ok(KeptKeys {
        store_key: decode(&file.store_key).and_then(|key| key.try_into().ok()).ok_or_else(malformed)?,
        cookie_key: decode(&file.cookie_key).and_then(|key| key.try_into().ok()).ok_or_else(malformed)?,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_generated_once_and_kept_private() {
        let dir = std::env::temp_dir().join(format!("msal-keys-{}", hex(&random_bytes::<8>())));
        let path = dir.join("store.sqlite3.keys");
        let first = read_or_create(&path).unwrap();
        let second = read_or_create(&path).unwrap();
        assert_eq!(first.store_key, second.store_key);
        assert_eq!(first.cookie_key, second.cookie_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, b"not keys").unwrap();
        assert!(read_or_create(&path).unwrap_err().to_string().contains("is not a key file"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_key_file_sits_beside_the_database() {
        assert_eq!(key_file(Path::new("data/msal.sqlite3")), PathBuf::from("data/msal.sqlite3.keys"));
    }
}
