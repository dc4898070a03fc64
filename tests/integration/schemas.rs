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

#[test]
fn indicator_spec_schema_matches_the_rust_types() {
    let dir = workspace_root().join("schemas").join("indicators");
    if update_expect() {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let body = indicators::spec::spec_schema();
    check_expect(&dir.join("spec.schema.json"), &body).unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
}

#[test]
fn built_in_specs_parse_and_bad_specs_name_the_field() {
    for (id, text) in indicators::BUILTIN {
        let spec = indicators::Spec::parse(text, Some(id)).unwrap();
        assert_eq!(spec.id, *id);
    }
    let good = indicators::BUILTIN[2].1;
    let cases = [
        (
            good.replace("\"min_pct\": 70", "\"min_pct\": 700"),
            "field `steps[0].scoring.levels[1].min_pct`: 700 is not a percentage (0-100)",
        ),
        (
            good.replace("\"kind\": \"levels\"", "\"kind\": \"tiers\""),
            "field `steps[0].scoring.kind`: unknown variant `tiers`",
        ),
        (
            good.replace("\"resolved\"]", "\"fixed\"]"),
            "field `steps[0].measure`: unknown variant `fixed`",
        ),
        (
            good.replace("\"unit_prefixes\"", "\"unit_prefix\""),
            "field `counts.unit_prefix`: unknown field `unit_prefix`",
        ),
        (
            good.replace(
                "{ \"min_pct\": 0, \"level\": 1, \"points\": 4 }",
                "{ \"min_pct\": 50, \"level\": 1, \"points\": 4 }",
            ),
            "field `steps[0].scoring.levels`: the last level must have min_pct 0",
        ),
    ];
    for (text, expected) in cases {
        assert_ne!(text, good, "the case must change the spec: {expected}");
        let e = indicators::Spec::parse(&text, Some("my.json"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("indicator spec my.json: "), "{e}");
        assert!(e.contains(expected), "{e}\nexpected: {expected}");
    }
}
