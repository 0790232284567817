//! `completions <shell>` and `man`: generated from the command definitions themselves, so they
//! never drift from the real flags.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs, Failure, ManArgs};

/// The completion script for `args.shell`, on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<ExitCode, Failure> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name.as_str(), &mut script);
    if args.shell == Shell::Bash {
        script = fix_bash_states(&script, &name);
    }
    write_stdout(&script)
}

/// clap_complete's bash script spells the state of a subcommand of a hyphenated binary two
/// ways (`monime__webhooks__subcmd__listen` in the loop that computes it,
/// `monime__subcmd__webhooks__subcmd__listen` in the arms that match it), so no subcommand's
/// flags complete (clap-rs/clap#6421). Spell the arms the way the loop does; a no-op once
/// clap_complete is fixed.
fn fix_bash_states(script: &[u8], name: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(script);
    let wrong = name.replace('-', "__subcmd__");
    let right = name.replace('-', "__");
    text.replace(&format!("{wrong}__subcmd__"), &format!("{right}__subcmd__"))
        .into_bytes()
}

/// The man page (roff) on stdout, or every command's page into `--dir`.
pub fn man(args: &ManArgs) -> Result<ExitCode, Failure> {
    let command = Cli::command();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::Usage(format!("cannot create {}: {e}", dir.display())))?;
        clap_mangen::generate_to(command, dir)
            .map_err(|e| Failure::Failed(format!("cannot write into {}: {e}", dir.display())))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .map_err(|e| Failure::Failed(format!("cannot render the man page: {e}")))?;
    write_stdout(&page)
}

fn write_stdout(bytes: &[u8]) -> Result<ExitCode, Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::Failed(format!("cannot write to stdout: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
