//! Every error and rejection of the runtime, in one place: typed, `#[non_exhaustive]`, with messages that say
//! what went wrong. Rejections (`…Rejection`) are what the extractors refuse a request with; each renders the
//! runtime's default answer through `IntoResponse`, and an app can match on it and answer its own way.

pub use crate::acquire::error::{
    AcquireError, InteractionReason, InteractionRequired, InvalidResponse, TokenRequestError,
};
pub use crate::cache::store::StoreError;
pub use crate::cache::token_cache::{ImportError, SkipReason};
pub use crate::config::error::ConfigError;
pub use crate::downstream::{ChallengeError, ClaimsChallenge, DownstreamError, InsufficientScope};
pub use crate::extract::interaction::Interaction;
pub use crate::extract::rejection::{AccessTokenForRejection, SignedInUserRejection};
pub use crate::msal::MsalError;
pub use crate::provider::account::AccountError;
pub use crate::provider::authority::{AuthorityError, IssuerMismatch};
pub use crate::provider::discovery::DiscoveryError;
pub use crate::provider::http::HttpError;
pub use crate::provider::id_token::IdTokenError;
pub use crate::provider::token_endpoint::{ProviderError, TokenError};
pub use crate::scope::set::ScopeError;
pub use crate::sign_in::return_url::ReturnUrlError;
#[cfg(feature = "testing")]
pub use crate::testing::TestingError;
pub use crate::web_api::bearer::BearerRejection;
pub use crate::web_api::error::{BearerError, ProtectedApiError};
pub use crate::web_api::on_behalf_of::OnBehalfOfRejection;
