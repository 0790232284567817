//! The event objects generator: deterministic, stale output detected, open types, and one
//! readable error for a spec it cannot turn into types.

use xtask::{events, generate, open_types, paths};

fn objects_spec() -> (String, String) {
    let root = paths::workspace_root();
    let path = paths::objects_spec(&root, "caph.2025-08-23");
    (
        std::fs::read_to_string(&path).unwrap(),
        paths::display_relative(&root, &path),
    )
}

#[test]
fn two_runs_give_byte_identical_output() {
    let (text, name) = objects_spec();
    assert_eq!(
        events::render(&text, &name, "0.8.0").unwrap(),
        events::render(&text, &name, "0.8.0").unwrap()
    );
}

#[test]
fn the_committed_file_matches_a_fresh_generation() {
    let root = paths::workspace_root();
    let (text, name) = objects_spec();
    let version = generate::locked_version(&root, "typify").unwrap();
    let rendered = events::render(&text, &name, &version).unwrap();
    let committed = std::fs::read_to_string(root.join(events::EVENTS_FILE)).unwrap();
    assert!(
        committed == rendered,
        "{}",
        xtask::generate::unified_diff(&committed, &rendered)
    );
}

#[test]
fn a_new_enum_value_becomes_a_new_variant() {
    let (text, name) = objects_spec();
    let changed = text.replacen(
        "          - failed\n",
        "          - failed\n          - reversed\n",
        1,
    );
    assert_ne!(changed, text);
    let before = events::render(&text, &name, "0.8.0").unwrap();
    let after = events::render(&changed, &name, "0.8.0").unwrap();
    assert!(!before.contains("Reversed"));
    assert!(
        after.contains("Reversed,") && after.contains("\"reversed\" =>"),
        "{after}"
    );
}

fn error_for(schemas: &str) -> String {
    let text = format!(
        "openapi: 3.0.3\ninfo: {{ title: t, version: v }}\npaths: {{}}\ncomponents:\n  schemas:\n{schemas}"
    );
    events::render(&text, "objects.yaml", "0.8.0")
        .unwrap_err()
        .0
}

#[test]
fn shapes_it_cannot_type_are_one_readable_error() {
    let cases = [
        (
            "    Thing:\n      type: object\n      properties:\n        via:\n          oneOf:\n          - type: object\n            properties:\n              name: { type: string }\n",
            "every oneOf branch needs a one-value `type` enum",
        ),
        (
            "    Alias:\n      $ref: '#/components/schemas/Alias'\n",
            "Alias: a component must describe an object",
        ),
        (
            "    Thing:\n      type: object\n      properties:\n        status: { type: string, enum: [a-b, a_b] }\n",
            "would both be the variant AB",
        ),
        (
            "    lowercase:\n      type: object\n",
            "cannot name a Rust type",
        ),
        (
            "    Thing:\n      type: object\n      properties:\n        n: { type: integer, enum: [1, 2] }\n",
            "only string enums are supported",
        ),
    ];
    for (schemas, expected) in cases {
        let error = error_for(schemas);
        assert!(error.starts_with("objects.yaml: "), "{error}");
        assert!(error.contains(expected), "{expected}: {error}");
    }
    let error = events::render("a: [", "objects.yaml", "0.8.0")
        .unwrap_err()
        .0;
    assert!(error.starts_with("objects.yaml:"), "{error}");
}

#[test]
fn names_follow_the_spec() {
    assert_eq!(open_types::pascal("one_time"), "OneTime");
    assert_eq!(open_types::pascal("lineItems"), "LineItems");
    assert_eq!(open_types::pascal("m17"), "M17");
    assert_eq!(open_types::pascal("3ds"), "V3ds");
}
