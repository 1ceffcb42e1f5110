use msal_runtime::requires_scopes;

#[requires_scopes("Mail.Read")]
struct Inbox;

fn main() {
    let _ = Inbox;
}
