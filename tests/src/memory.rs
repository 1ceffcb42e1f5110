//! The test process's resident memory, for tests that show a flood of requests leaves nothing behind.

/// The resident set size of this process, in bytes (Linux: `VmRSS` of `/proc/self/status`).
pub fn resident_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux)");
    let kib: usize = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line in kB");
    kib * 1024
}
