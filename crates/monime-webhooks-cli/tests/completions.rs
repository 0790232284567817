//! `completions <shell>` and `man`: the scripts really complete in bash, every shell gets a
//! script naming every command, and the man pages are valid roff that cover every command.

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_monime-webhooks");
const COMMANDS: [&str; 11] = [
    "list",
    "create",
    "get",
    "update",
    "delete",
    "verify",
    "sign",
    "send-test-event",
    "listen",
    "completions",
    "man",
];

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn every_shell_gets_a_script_naming_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = run(&["completions", shell]);
        assert!(output.status.success(), "{shell}");
        let script = text(&output.stdout);
        for command in COMMANDS {
            assert!(script.contains(command), "{shell} script lacks {command}");
        }
        assert!(
            script.contains("forward-to"),
            "{shell} lacks listen's flags"
        );
    }
    let unknown = run(&["completions", "tcsh"]);
    assert_eq!(unknown.status.code(), Some(2));
}

/// What bash offers for the words typed so far, the last one being completed.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = text(&run(&["completions", "bash"]).stdout);
    let path = std::env::temp_dir().join(format!("monime-webhooks-{}.bash", std::process::id()));
    std::fs::write(&path, script).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let current = words.len() - 1;
    let previous = words[current - 1];
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={current}; \
         _monime__webhooks monime-webhooks '{}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display(),
        quoted.join(" "),
        words[current]
    );
    let output = Command::new("bash")
        .args(["-c", &program])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn bash_completes_commands_and_each_commands_flags() {
    assert_eq!(
        bash_complete(&["monime-webhooks", "li"]),
        ["list", "listen"]
    );
    assert_eq!(
        bash_complete(&["monime-webhooks", "listen", "--for"]),
        ["--forward-to"]
    );
    assert_eq!(
        bash_complete(&["monime-webhooks", "listen", "--secret-f"]),
        ["--secret-file"]
    );
    let shells = bash_complete(&["monime-webhooks", "completions", "z"]);
    assert_eq!(shells, ["zsh"]);
}

#[test]
fn the_man_page_is_roff_for_every_command() {
    let output = run(&["man"]);
    assert!(output.status.success());
    let page = text(&output.stdout);
    assert!(page.contains(".TH monime-webhooks 1"), "{page}");
    for command in COMMANDS {
        // roff spells a hyphen `\-`.
        let roff = command.replace('-', "\\-");
        assert!(page.contains(&roff), "the page lacks {command}");
    }
    // groff parses it without a warning.
    let path = std::env::temp_dir().join(format!("monime-webhooks-{}.1", std::process::id()));
    std::fs::write(&path, &page).unwrap();
    let groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(groff.status.success());
    assert!(groff.stderr.is_empty(), "{}", text(&groff.stderr));

    let dir = std::env::temp_dir().join(format!("monime-webhooks-man-{}", std::process::id()));
    let written = run(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(written.status.success(), "{}", text(&written.stderr));
    for command in COMMANDS {
        let page = std::fs::read_to_string(dir.join(format!("monime-webhooks-{command}.1")))
            .unwrap_or_else(|e| panic!("no page for {command}: {e}"));
        assert!(page.contains(".TH monime-webhooks-"), "{command}");
    }
    let listen = std::fs::read_to_string(dir.join("monime-webhooks-listen.1")).unwrap();
    assert!(listen.contains("forward\\-to"), "{listen}");
}
