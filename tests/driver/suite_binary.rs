//! Where the suite's binary comes from. `CARGO_BIN_EXE_*` exists only inside the package that
//! owns a binary, so this crate asks cargo for it: once per test binary, it builds
//! `hiresync-scenario` (a no-op when it is fresh, as after `make run`) and takes the
//! executable's path from cargo's own report, which stays right under `CARGO_TARGET_DIR`,
//! a configured target directory or a `--target` triple.
//!
//! The nested build cannot deadlock: cargo and nextest both release the build directory
//! lock before they run any test, and concurrent test processes (nextest runs each test in
//! its own) simply queue on that lock, the first one building, the others finding it fresh.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use crate::Result;

const PACKAGE: &str = "hiresync-scenario";

/// The suite's executable, built on the first call in this process.
pub(crate) fn path() -> Result<PathBuf> {
    static BUILT: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(build).clone().map_err(Into::into)
}

fn build() -> std::result::Result<PathBuf, String> {
    // Set by cargo and by nextest for the tests they run; a bare `cargo` otherwise.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the e2e crate sits inside the workspace")?;
    let output = Command::new(&cargo)
        .current_dir(workspace)
        .args(["build", "--quiet", "--package", PACKAGE, "--bin", PACKAGE])
        .arg("--message-format=json-render-diagnostics")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        // Printed as cargo wrote it: the error below is shown escaped, on one line.
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        return Err(format!(
            "building {PACKAGE} failed ({}); cargo's output is above",
            output.status
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == PACKAGE)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo built {PACKAGE} but named no executable"))
}
