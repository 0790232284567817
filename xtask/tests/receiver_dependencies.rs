//! Receivers get the typed events without an HTTP client: `monime-signature`, `monime-events`
//! and `monime-inbox` pull in neither reqwest nor progenitor-client, whatever their features.

use std::process::Command;

use xtask::paths;

fn normal_dependencies(package: &str, features: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-f",
            "{p}",
        ])
        .args(["-p", package])
        .current_dir(paths::workspace_root());
    if !features.is_empty() {
        command.args(["--features", features]);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn receiver_crates_pull_no_http_client() {
    for (package, features) in [
        ("monime-events", ""),
        ("monime-signature", ""),
        ("monime-signature", "axum"),
        ("monime-inbox", "postgres"),
    ] {
        let dependencies = normal_dependencies(package, features);
        assert!(
            dependencies.iter().any(|d| d == package),
            "{dependencies:?}"
        );
        for client in ["reqwest", "progenitor-client", "monime-webhooks-api"] {
            assert!(
                !dependencies.iter().any(|d| d == client),
                "{package} (features: {features:?}) depends on {client}"
            );
        }
    }
}
