//! `cargo xtask package`'s archive check: which crates are published, and what a `.crate`
//! must hold (both license files, as in the workspace root, and the README its manifest names).

use std::path::{Path, PathBuf};

use xtask::package::{self, Published};
use xtask::paths;

/// Writes a `.crate`-shaped archive (`<name>-<version>/<file>` entries, gzipped tar).
fn archive(name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("xtask-package-{name}-{}.crate", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::fast(),
    ));
    for (file_name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{name}-0.1.0/{file_name}"), *bytes)
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
    path
}

fn krate(name: &str) -> Published {
    Published {
        name: name.to_owned(),
        version: "0.1.0".to_owned(),
        readme: Some("README.md".to_owned()),
    }
}

fn license(root: &Path, name: &str) -> Vec<u8> {
    std::fs::read(root.join(name)).unwrap()
}

#[test]
fn the_published_crates_are_the_members_without_publish_false() {
    let names: Vec<String> = package::published(&paths::workspace_root())
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        [
            "monime-events",
            "monime-inbox",
            "monime-mock",
            "monime-signature",
            "monime-webhooks",
            "monime-webhooks-api",
            "monime-webhooks-cli"
        ]
    );
}

#[test]
fn a_complete_archive_passes_and_each_gap_is_named() {
    let root = paths::workspace_root();
    let (mit, apache) = (
        license(&root, "LICENSE-MIT"),
        license(&root, "LICENSE-APACHE"),
    );
    let complete = archive(
        "complete",
        &[
            ("Cargo.toml", b"[package]"),
            ("LICENSE-MIT", &mit),
            ("LICENSE-APACHE", &apache),
            ("README.md", b"# complete\n"),
        ],
    );
    assert!(
        package::problems(&root, &krate("complete"), &complete)
            .unwrap()
            .is_empty()
    );

    let gaps = archive(
        "gaps",
        &[("LICENSE-MIT", b"another license"), ("README.md", b"  \n")],
    );
    assert_eq!(
        package::problems(&root, &krate("gaps"), &gaps).unwrap(),
        [
            "gaps's LICENSE-MIT differs from the workspace's",
            "gaps has no LICENSE-APACHE",
            "gaps's README.md is empty",
        ]
    );
    let no_readme = Published {
        readme: None,
        ..krate("gaps")
    };
    let problems = package::problems(&root, &no_readme, &gaps).unwrap();
    assert!(
        problems.contains(&"gaps names no readme".to_owned()),
        "{problems:?}"
    );
}
