//! App-only callers of a web API (the client credentials grant: daemons, services), authorized by the app
//! roles (application permissions) in `roles`: [`AppCaller`] for routes only apps may call, [`UserOrApp`] for
//! routes that serve both a user's app and a daemon and tell them apart (Microsoft.Identity.Web's
//! `RequiredScopeOrAppPermission`, stricter: each kind of caller is held to its own list).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;

use crate::scope::required::RequiredScopes;
use crate::scope::set::ScopeSet;
use crate::web_api::bearer::{BearerRejection, validated_caller};
use crate::web_api::protected_api::{ApiCaller, CallerKind, ProtectedApi};

/// The app roles an API route needs from an app-only caller, as a type (the counterpart of
/// [`RequiredScopes`] for delegated callers). Each role is a role's value as the API's registration declares
/// it (Entra: an app role allowed for applications), compared exactly; the caller needs all of them.
///
/// ```
/// use msal_runtime::{AppCaller, ProtectedApi, RequiredRoles};
///
/// struct MailReadAll;
/// impl RequiredRoles for MailReadAll {
///     const ROLES: &'static [&'static str] = &["Mail.Read.All"];
/// }
///
/// async fn count(caller: AppCaller<MailReadAll>) -> String {
///     format!("counted for the app {:?}", caller.client_id())
/// }
/// # let _ = axum::routing::get::<_, _, ProtectedApi>(count);
/// ```
///
/// An empty list is refused at every request (500, [`BearerRejection::InvalidRoles`]): on Entra any app of
/// the tenant can get an app-only token for any API, with no roles, so "any app" is never what a route means.
pub trait RequiredRoles: Send + Sync + 'static {
    /// The roles' values.
    const ROLES: &'static [&'static str];
}

/// `R`'s roles, when the list is not empty and each is an RFC 6749 `scope-token` (printable ASCII without
/// spaces, `"` or `\`), as Entra's role values are.
fn roles_of<R: RequiredRoles>() -> Result<&'static [&'static str], BearerRejection> {
    let valid = |role: &str| !role.is_empty() && role.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E));
    if R::ROLES.is_empty() || !R::ROLES.iter().all(|role| valid(role)) {
        return Err(BearerRejection::InvalidRoles);
    }
    Ok(R::ROLES)
}

/// Whether an app-only `caller` holds every one of `roles`.
fn check_roles(caller: &ApiCaller, roles: &[&str]) -> Result<(), BearerRejection> {
    if roles.iter().all(|role| caller.has_role(role)) {
        Ok(())
    } else {
        Err(BearerRejection::InsufficientRoles { required: roles.join(" ") })
    }
}

/// The validated caller of an API route for apps calling as themselves ([`CallerKind::App`]), holding all of
/// `R`'s app roles. A user's token is refused (403 [`BearerRejection::CallerNotAccepted`]) even when the user is
/// assigned those roles; an app lacking one is refused with 403 [`BearerRejection::InsufficientRoles`]. Needs
/// `ProtectedApi: FromRef<S>` for the router's state `S`, as [`Bearer`](crate::Bearer) does.
pub struct AppCaller<R: RequiredRoles> {
    caller: ApiCaller,
    roles: PhantomData<fn() -> R>,
}

impl<R: RequiredRoles> Deref for AppCaller<R> {
    type Target = ApiCaller;

    fn deref(&self) -> &ApiCaller {
        &self.caller
    }
}

impl<R: RequiredRoles> fmt::Debug for AppCaller<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AppCaller").field(&self.caller).finish()
    }
}

impl<S, R> FromRequestParts<S> for AppCaller<R>
where
    S: Send + Sync,
    R: RequiredRoles,
    ProtectedApi: FromRef<S>,
{
    type Rejection = BearerRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let roles = roles_of::<R>()?;
        let caller = validated_caller(parts, &ProtectedApi::from_ref(state)).await?;
        if caller.kind() != CallerKind::App {
            return Err(BearerRejection::CallerNotAccepted { found: caller.kind() });
        }
        check_roles(&caller, roles)?;
        Ok(Self { caller, roles: PhantomData })
    }
}

/// The validated caller of an API route that serves both kinds of caller: a user's app with all of `S`'s
/// delegated scopes, or an app calling as itself with all of `R`'s app roles. The handler tells them apart
/// with [`ApiCaller::kind`] (for example: a user reads their own mailbox, a daemon any mailbox):
///
/// ```
/// use msal_runtime::{CallerKind, ProtectedApi, RequiredRoles, RequiredScopes, UserOrApp};
///
/// struct MailRead;
/// impl RequiredScopes for MailRead {
///     const SCOPES: &'static [&'static str] = &["Mail.Read"];
/// }
/// struct MailReadAll;
/// impl RequiredRoles for MailReadAll {
///     const ROLES: &'static [&'static str] = &["Mail.Read.All"];
/// }
///
/// async fn messages(caller: UserOrApp<MailRead, MailReadAll>) -> String {
///     match caller.kind() {
///         CallerKind::App => "any mailbox".to_owned(),
///         _ => format!("the mailbox of {}", caller.subject()),
///     }
/// }
/// # let _ = axum::routing::get::<_, _, ProtectedApi>(messages);
/// ```
///
/// A user's app-role assignments (`roles` in a delegated token) never stand in for scopes, nor scopes for an
/// app's roles: a user lacking scopes gets 403 [`BearerRejection::InsufficientScope`], an app lacking roles
/// 403 [`BearerRejection::InsufficientRoles`].
pub struct UserOrApp<S: RequiredScopes, R: RequiredRoles> {
    caller: ApiCaller,
    required: PhantomData<fn() -> (S, R)>,
}

impl<S: RequiredScopes, R: RequiredRoles> Deref for UserOrApp<S, R> {
    type Target = ApiCaller;

    fn deref(&self) -> &ApiCaller {
        &self.caller
    }
}

impl<S: RequiredScopes, R: RequiredRoles> fmt::Debug for UserOrApp<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UserOrApp").field(&self.caller).finish()
    }
}

impl<St, S, R> FromRequestParts<St> for UserOrApp<S, R>
where
    St: Send + Sync,
    S: RequiredScopes,
    R: RequiredRoles,
    ProtectedApi: FromRef<St>,
{
    type Rejection = BearerRejection;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let scopes = ScopeSet::from_strs(S::SCOPES.iter().copied()).map_err(|_| BearerRejection::InvalidScopes)?;
        let roles = roles_of::<R>()?;
        let caller = validated_caller(parts, &ProtectedApi::from_ref(state)).await?;
        match caller.kind() {
            CallerKind::App => check_roles(&caller, roles)?,
            _ if caller.scopes().is_superset_of(&scopes) => {}
            _ => return Err(BearerRejection::InsufficientScope { required: scopes.to_scope_string() }),
        }
        Ok(Self { caller, required: PhantomData })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::unix_now;
    use crate::provider::authority::Authority;
    use crate::provider::id_token::tests::{ISSUER, changed, default_keys, rsa_a};
    use crate::web_api::bearer::Bearer;
    use axum::response::IntoResponse;
    use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
    use http::{Request, StatusCode};
    use jsonwebtoken::Algorithm;
    use serde_json::{Value, json};

    struct MailRead;
    impl RequiredScopes for MailRead {
        const SCOPES: &'static [&'static str] = &["Mail.Read"];
    }
    struct NoScopes;
    impl RequiredScopes for NoScopes {
        const SCOPES: &'static [&'static str] = &[];
    }
    struct MailReadAll;
    impl RequiredRoles for MailReadAll {
        const ROLES: &'static [&'static str] = &["Mail.Read.All"];
    }
    struct TwoRoles;
    impl RequiredRoles for TwoRoles {
        const ROLES: &'static [&'static str] = &["Mail.Read.All", "Mail.Send.All"];
    }
    struct AnyApp;
    impl RequiredRoles for AnyApp {
        const ROLES: &'static [&'static str] = &[];
    }
    struct Spaced;
    impl RequiredRoles for Spaced {
        const ROLES: &'static [&'static str] = &["Mail Read"];
    }

    fn api() -> ProtectedApi {
        let policy = Authority::parse(ISSUER).unwrap().issuer_policy(ISSUER).unwrap();
        ProtectedApi::for_tests(default_keys(), policy, &["api://mail-api"])
    }

    fn token(changes: Value) -> String {
        let now = unix_now() as i64;
        let claims = json!({"iss": ISSUER, "aud": "api://mail-api", "exp": now + 600, "iat": now});
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some("a".into());
        jsonwebtoken::encode(&header, &changed(claims, changes), &rsa_a()).unwrap()
    }

    /// Alice, through the web app, with `Mail.Read` and the user role `Mail.Read.All`.
    fn user() -> String {
        token(json!({"sub": "alice", "client_id": "mail-app", "scope": "Mail.Read", "roles": ["Mail.Read.All"]}))
    }

    /// The daemon, as itself, with the app role `Mail.Read.All`.
    fn daemon() -> String {
        token(json!({"sub": "mail-daemon", "client_id": "mail-daemon", "roles": ["Mail.Read.All"]}))
    }

    fn extract<E>(token: &str) -> Result<E, BearerRejection>
    where
        E: FromRequestParts<ProtectedApi, Rejection = BearerRejection>,
    {
        let request = Request::builder().header(AUTHORIZATION, format!("Bearer {token}")).body(()).unwrap();
        let (mut parts, ()) = request.into_parts();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(E::from_request_parts(&mut parts, &api()))
    }

    fn answer(rejection: BearerRejection) -> (StatusCode, String) {
        let response = rejection.into_response();
        let challenge = response.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
        (response.status(), challenge.unwrap_or_default())
    }

    #[test]
    fn app_routes_take_apps_with_the_roles_and_no_users() {
        let caller = extract::<AppCaller<MailReadAll>>(&daemon()).unwrap();
        assert_eq!((caller.kind(), caller.subject()), (CallerKind::App, "mail-daemon"));
        // A user assigned the same role is still a user.
        let refused = extract::<AppCaller<MailReadAll>>(&user()).unwrap_err();
        assert_eq!(refused, BearerRejection::CallerNotAccepted { found: CallerKind::Delegated });
        assert_eq!(
            answer(refused),
            (
                StatusCode::FORBIDDEN,
                "Bearer error=\"insufficient_scope\", error_description=\"this route does not accept delegated callers\""
                    .to_owned()
            )
        );
        // Every role is needed; the answer names them, and no `scope` a user could consent to.
        let refused = extract::<AppCaller<TwoRoles>>(&daemon()).unwrap_err();
        assert_eq!(refused, BearerRejection::InsufficientRoles { required: "Mail.Read.All Mail.Send.All".into() });
        let (status, challenge) = answer(refused);
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(challenge.contains("the app lacks the app roles Mail.Read.All Mail.Send.All"), "{challenge}");
        assert!(!challenge.contains("scope=\""), "{challenge}");
        let no_roles = token(json!({"sub": "mail-daemon", "client_id": "mail-daemon"}));
        assert!(matches!(extract::<AppCaller<MailReadAll>>(&no_roles), Err(BearerRejection::InsufficientRoles { .. })));
        // "Any app" and malformed roles are the API's bug: 500 at every request.
        assert_eq!(extract::<AppCaller<AnyApp>>(&daemon()).unwrap_err(), BearerRejection::InvalidRoles);
        assert_eq!(extract::<AppCaller<Spaced>>(&daemon()).unwrap_err(), BearerRejection::InvalidRoles);
        assert_eq!(answer(BearerRejection::InvalidRoles).0, StatusCode::INTERNAL_SERVER_ERROR);
        // Token problems answer as on the other routes.
        assert!(matches!(extract::<AppCaller<MailReadAll>>("x.y.z"), Err(BearerRejection::InvalidToken(_))));
    }

    #[test]
    fn user_routes_refuse_apps_even_with_no_scopes_required() {
        assert_eq!(extract::<Bearer<MailRead>>(&user()).unwrap().kind(), CallerKind::Delegated);
        for refused in
            [extract::<Bearer<MailRead>>(&daemon()).unwrap_err(), extract::<Bearer<NoScopes>>(&daemon()).unwrap_err()]
        {
            assert_eq!(refused, BearerRejection::CallerNotAccepted { found: CallerKind::App });
            let (status, challenge) = answer(refused);
            assert_eq!(status, StatusCode::FORBIDDEN);
            assert!(challenge.contains("does not accept app-only callers"), "{challenge}");
        }
    }

    #[test]
    fn routes_for_both_hold_each_kind_to_its_own_list() {
        type Both = UserOrApp<MailRead, MailReadAll>;
        assert_eq!(extract::<Both>(&user()).unwrap().kind(), CallerKind::Delegated);
        assert_eq!(extract::<Both>(&daemon()).unwrap().kind(), CallerKind::App);
        // A user's role does not stand in for a scope.
        let roles_only =
            token(json!({"sub": "alice", "client_id": "mail-app", "scope": "Mail.Send", "roles": ["Mail.Read.All"]}));
        assert_eq!(
            extract::<Both>(&roles_only).unwrap_err(),
            BearerRejection::InsufficientScope { required: "Mail.Read".into() }
        );
        let other_role = token(json!({"sub": "mail-daemon", "client_id": "mail-daemon", "roles": ["Mail.Send.All"]}));
        assert_eq!(
            extract::<Both>(&other_role).unwrap_err(),
            BearerRejection::InsufficientRoles { required: "Mail.Read.All".into() }
        );
        assert_eq!(extract::<UserOrApp<MailRead, AnyApp>>(&user()).unwrap_err(), BearerRejection::InvalidRoles);
    }
}
