//! Version cores that crates.io accepts: every Monime API release gets a new one, since
//! crates.io ignores the build metadata (`+caph.2025-08-23`) that names the release; at least
//! the bump `cargo xtask diff` derives from the two releases' specs.
//!
//! The released versions come from CHANGELOG.md: a `## [<core>] - <date>` heading followed by
//! a line naming `Monime API release: <release>`.

use std::path::Path;

use crate::diff;
use crate::failure::Result;
use crate::{package, paths, upstream};

pub const CHANGELOG: &str = "CHANGELOG.md";

/// A released version, from the changelog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The version core, e.g. `0.1.0`.
    pub core: String,
    /// Monime's API release, e.g. `caph.2025-08-23`.
    pub api_release: String,
}

/// The released versions in the changelog, newest first (the order Keep a Changelog uses).
pub fn released(changelog: &str) -> Result<Vec<Release>> {
    let mut releases = Vec::new();
    let mut lines = changelog.lines().peekable();
    while let Some(line) = lines.next() {
        let heading = line
            .strip_prefix("## [")
            .and_then(|rest| rest.split_once(']'));
        let Some((core, _)) = heading.filter(|(core, _)| !core.eq_ignore_ascii_case("unreleased"))
        else {
            continue;
        };
        if parse_core(core).is_none() {
            return Err(fail!(
                "{CHANGELOG}: `{line}` does not name a version core like 0.1.0"
            ));
        }
        let api_release = std::iter::from_fn(|| lines.next_if(|l| !l.starts_with("## ")))
            .find_map(|l| {
                let after = l.split_once("Monime API release: `")?.1;
                Some(after.split_once('`')?.0.to_owned())
            })
            .ok_or_else(|| {
                fail!(
                    "{CHANGELOG}: the section of {core} does not say `Monime API release: `<release>``"
                )
            })?;
        releases.push(Release {
            core: core.to_owned(),
            api_release,
        });
    }
    Ok(releases)
}

/// `major.minor.patch` as numbers.
pub fn parse_core(core: &str) -> Option<[u64; 3]> {
    let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    parts?.try_into().ok()
}

/// The smallest version core a crate may carry for the API release `current_release`, given
/// the last release in the changelog.
pub fn minimum_core(root: &Path, last: &Release, current_release: &str) -> Result<String> {
    if last.api_release == current_release {
        return Ok(last.core.clone());
    }
    // The two releases' specs, when both are still in openapi/, say how big the bump must be.
    let spec = |release: &str| {
        let spec = format!("{}{release}.yaml", paths::SPEC_PREFIX);
        Some(root.join(paths::SPEC_DIR).join(spec)).filter(|path| path.exists())
    };
    let mut worst = None;
    if let (Some(old), Some(new)) = (spec(&last.api_release), spec(current_release)) {
        let (old, new) = (
            upstream::load_document(&old)?,
            upstream::load_document(&new)?,
        );
        worst = diff::changes(&old, &new, "").iter().map(|c| c.impact).max();
    }
    Ok(diff::next_version(&last.core, worst))
}

/// Every published crate's version core is the same, is not older than the last release,
/// and is new for a new API release: at least what `minimum_core` says.
pub fn check(root: &Path, current_release: &str) -> Result<()> {
    let changelog = std::fs::read_to_string(root.join(CHANGELOG));
    let changelog = changelog.map_err(|e| fail!("cannot read {CHANGELOG}: {e}"))?;
    let crates = package::published(root)?;
    let cores: Vec<(&str, &str)> = crates
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.version.split('+').next().unwrap_or_default(),
            )
        })
        .collect();
    if let Some((first_name, first)) = cores.first()
        && let Some((name, other)) = cores.iter().find(|(_, core)| core != first)
    {
        return Err(fail!(
            "the published crates are versioned together, but {first_name} is {first} and \
             {name} is {other}"
        ));
    }
    let Some(last) = released(&changelog)?.into_iter().next() else {
        return Ok(()); // Nothing released yet: any version is new.
    };
    let minimum = minimum_core(root, &last, current_release)?;
    let too_old = |core: &str| match (parse_core(core), parse_core(&minimum)) {
        (Some(core), Some(minimum)) => core < minimum,
        _ => true,
    };
    let offenders: Vec<String> = cores
        .iter()
        .filter(|(_, core)| too_old(core))
        .map(|(name, core)| format!("{name} {core}"))
        .collect();
    if offenders.is_empty() {
        return Ok(());
    }
    let why = if last.api_release == current_release {
        format!("{} was released for {current_release}", last.core)
    } else {
        format!(
            "{} was released for {}, and the crates now follow {current_release}: crates.io \
             ignores `+<release>` build metadata, so a new Monime release needs a new version \
             core even when nothing under /v1/webhooks changed (`cargo xtask diff` says which \
             bump)",
            last.core, last.api_release
        )
    };
    Err(fail!(
        "{why}. Set every published crate's version to at least {minimum}+{current_release} \
         (now: {}).",
        offenders.join(", ")
    ))
}
