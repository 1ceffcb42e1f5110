//! Calling a protected API with the user's token, and what its answer can ask for: a claims challenge
//! (Conditional Access, continuous access evaluation: `401` with `error="insufficient_claims"` and `claims`),
//! or scopes the token lacks (`403` with `error="insufficient_scope"`, RFC 6750 §3.1).
//!
//! [`AccessToken::call`](crate::AccessToken::call) sends the request and turns those answers into a
//! [`DownstreamError`] a handler returns with `?`; the `answer_challenges` middleware (in `extract`) then
//! sends the user to the provider for them, as the extractors do for a missing consent.

pub(crate) mod call;
pub(crate) mod challenge;

pub use call::DownstreamError;
pub use challenge::{ChallengeError, ClaimsChallenge, InsufficientScope};
