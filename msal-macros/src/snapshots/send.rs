#[doc(hidden)]
#[allow(non_camel_case_types)]
struct __msal_scopes_send;
impl ::msal_runtime::__private::RequiredScopes for __msal_scopes_send {
    const SCOPES: &'static [&'static str] = &["Mail.Send"];
}
::msal_runtime::__private::inventory::submit! {
    ::msal_runtime::__private::ScopedHandler::new("send", ::core::module_path!(), &
    ["Mail.Send"])
}
/// Sends a message.
async fn send(
    ::msal_runtime::__private::ScopedToken(
        token,
        _,
    ): ::msal_runtime::__private::ScopedToken<__msal_scopes_send, AccessToken>,
    State(api): State<MailApi>,
    Form(mail): Form<Mail>,
) -> Result<Redirect, AppError> {
    api.send(&token, mail).await?;
    Ok(Redirect::to("/mail"))
}
