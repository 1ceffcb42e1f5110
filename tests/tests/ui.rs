//! The macro's diagnostics and the handler shapes it accepts: one file per case under `ui/`, each failing
//! case with its exact compiler output (`.stderr`). `TRYBUILD=overwrite` regenerates them after a review.
//!
//! Every case runs from this one test function. trybuild builds all cases in one project directory and
//! guards it across test processes (nextest runs each `#[test]` in its own) with a lock file it treats as
//! stale after 1.5 s without a touch, so on a loaded machine a second test could take the directory from
//! under the first; one `TestCases` needs no lock.
//!
//! trybuild builds every dependency a second time, under `target/tests/trybuild`. With debug info that
//! second tree ran a CI machine out of disk; `.cargo/config.toml` builds dependencies without it.

#[test]
fn requires_scopes() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
    // A router whose state cannot reach the runtime (`Msal: FromRef<S>`, `ProtectedApi: FromRef<S>`) does
    // not compile: a forgotten wiring fails the build, never the first request.
    cases.compile_fail("ui/wiring/*.rs");
}
