//! The macro's diagnostics and the handler shapes it accepts: one file per case under `ui/`, each failing
//! case with its exact compiler output (`.stderr`). `TRYBUILD=overwrite` regenerates them after a review.

#[test]
fn requires_scopes() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}

/// A router whose state cannot reach the runtime (`Msal: FromRef<S>`, `ProtectedApi: FromRef<S>`) does not
/// compile: a forgotten wiring fails the build, never the first request.
#[test]
fn a_forgotten_wiring_fails_the_build() {
    trybuild::TestCases::new().compile_fail("ui/wiring/*.rs");
}
