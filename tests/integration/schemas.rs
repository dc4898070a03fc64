//! The JSON Schemas in `schemas/events/` are generated from the Rust types; this test
//! regenerates them and fails on drift (`UPDATE_EXPECT=1` rewrites them).

use tests::{check_expect, update_expect, workspace_root};

#[test]
fn event_schemas_match_the_rust_types() {
    let dir = workspace_root().join("schemas").join("events");
    if update_expect() {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let generated = event_model::schema::all_schemas();
    let mut failures = Vec::new();
    for (name, body) in &generated {
        if let Err(e) = check_expect(&dir.join(name), body) {
            failures.push(e);
        }
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            v["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
    }
    // No schema file without a type behind it.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if !generated.iter().any(|(n, _)| *n == name) {
            failures.push(format!("schemas/events/{name} has no Rust type behind it"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn payload_schemas_refuse_unknown_fields_and_list_required_ones() {
    for (name, body) in event_model::schema::all_schemas() {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["additionalProperties"], false,
            "{name} must refuse unknown fields"
        );
    }
    let closed: serde_json::Value = serde_json::from_str(
        &event_model::schema::all_schemas()
            .into_iter()
            .find(|(n, _)| n == "closed.schema.json")
            .unwrap()
            .1,
    )
    .unwrap();
    let required: Vec<&str> = closed["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(required, ["answer", "outcome"]);
}
