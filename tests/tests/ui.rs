//! The macro's diagnostics and the handler shapes it accepts: one file per case under `ui/`, each failing
//! case with its exact compiler output (`.stderr`). `TRYBUILD=overwrite` regenerates them after a review.

#[test]
fn requires_scopes() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
