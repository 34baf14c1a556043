//! Answers checked against the OpenAPI document's schemas, in `cargo test`: the JSON Schema
//! keywords the document uses (`$ref` within it, `type`, `enum`, `properties`, `required`,
//! `additionalProperties`, `propertyNames`, `items`, `minItems` / `maxItems`, `allOf` /
//! `anyOf` / `oneOf`, `minimum` / `maximum`, `minLength` / `maxLength`, `pattern`, and the
//! `date` and `date-time` formats). Not a general validator: a keyword it does not know fails
//! the check, so that a schema is never passed by a keyword skipped.

use regex::Regex;
use serde_json::Value;

/// Keywords that say nothing about what an answer may be.
const NOTES: [&str; 4] = ["description", "default", "examples", "contentMediaType"];

/// What is wrong with `value` under `schema` (a schema of `spec`, whose `$ref`s it follows),
/// each as `path: what`; empty when it conforms.
pub fn errors(spec: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(spec, schema, value, "", &mut out);
    out
}

fn check(spec: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        match schema {
            Value::Bool(true) => {}
            Value::Bool(false) => out.push(format!("{at}: nothing is allowed here")),
            _ => panic!("{at}: a schema is an object or a boolean: {schema}"),
        }
        return;
    };
    for (key, want) in s {
        match key.as_str() {
            k if NOTES.contains(&k) => {}
            "$ref" => {
                let pointer = want.as_str().and_then(|r| r.strip_prefix('#'));
                let target = pointer
                    .and_then(|p| spec.pointer(p))
                    .unwrap_or_else(|| panic!("{at}: {want} does not resolve"));
                check(spec, target, v, at, out);
            }
            "type" => {
                let types: Vec<&str> = match want {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("{at}: type {want}"),
                };
                if !types.iter().any(|t| is_type(v, t)) {
                    fail(out, at, format!("{v} is not {}", types.join(" or ")));
                }
            }
            "enum" if !want.as_array().unwrap().contains(v) => {
                fail(out, at, format!("{v} is not in {want}"))
            }
            "enum" => {}
            "required" => {
                for name in want.as_array().unwrap() {
                    if v.is_object() && v.get(name.as_str().unwrap()).is_none() {
                        fail(out, at, format!("{name} is missing"));
                    }
                }
            }
            "properties" => {
                for (name, sub) in want.as_object().unwrap() {
                    if let Some(x) = v.as_object().and_then(|o| o.get(name)) {
                        check(spec, sub, x, &format!("{at}/{name}"), out);
                    }
                }
            }
            "additionalProperties" => {
                let known = s.get("properties").and_then(Value::as_object);
                for (name, x) in v.as_object().into_iter().flatten() {
                    if !known.is_some_and(|k| k.contains_key(name)) {
                        check(spec, want, x, &format!("{at}/{name}"), out);
                    }
                }
            }
            "propertyNames" => {
                for name in v.as_object().into_iter().flatten().map(|(k, _)| k) {
                    check(
                        spec,
                        want,
                        &Value::from(name.as_str()),
                        &format!("{at}/{name}"),
                        out,
                    );
                }
            }
            "items" => {
                for (i, x) in v.as_array().into_iter().flatten().enumerate() {
                    check(spec, want, x, &format!("{at}/{i}"), out);
                }
            }
            "allOf" | "anyOf" | "oneOf" => {
                let found: Vec<Vec<String>> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|sub| errors(spec, sub, v))
                    .collect();
                let fits = found.iter().filter(|e| e.is_empty()).count();
                match key.as_str() {
                    "allOf" => out.extend(found.into_iter().flatten()),
                    "anyOf" if fits == 0 => fail(out, at, format!("fits none of anyOf: {found:?}")),
                    "oneOf" if fits != 1 => {
                        fail(out, at, format!("fits {fits} of oneOf: {found:?}"))
                    }
                    _ => {}
                }
            }
            "minItems" | "maxItems" | "minLength" | "maxLength" => {
                let n = match v {
                    Value::Array(a) => a.len(),
                    Value::String(t) => t.chars().count(),
                    _ => continue,
                };
                let bound = want.as_u64().unwrap() as usize;
                if (key.starts_with("min") && n < bound) || (key.starts_with("max") && n > bound) {
                    fail(out, at, format!("{n} breaks {key} {bound}"));
                }
            }
            "minimum" | "maximum" => {
                let (Some(x), Some(bound)) = (v.as_f64(), want.as_f64()) else {
                    continue;
                };
                if (key == "minimum" && x < bound) || (key == "maximum" && x > bound) {
                    fail(out, at, format!("{v} breaks {key} {want}"));
                }
            }
            "pattern" => {
                let re = Regex::new(want.as_str().unwrap()).expect("a pattern");
                if v.as_str().is_some_and(|t| !re.is_match(t)) {
                    fail(out, at, format!("{v} does not match {want}"));
                }
            }
            "format" => {
                let shape = match want.as_str().unwrap() {
                    "date" => r"^\d{4}-\d{2}-\d{2}$",
                    "date-time" => {
                        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
                    }
                    _ => continue,
                };
                if v.as_str()
                    .is_some_and(|t| !Regex::new(shape).unwrap().is_match(t))
                {
                    fail(out, at, format!("{v} is not a {want}"));
                }
            }
            other => panic!("{at}: the keyword {other:?} is not checked here; teach it"),
        }
    }
}

fn fail(out: &mut Vec<String>, at: &str, what: String) {
    out.push(format!("{at}: {what}"));
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|x| x.fract() == 0.0),
        _ => panic!("type {t:?}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::errors;

    #[test]
    fn the_checks_fail_what_they_should() {
        let spec = json!({ "components": { "schemas": { "Id": { "type": "string", "pattern": "^TS" } } } });
        let schema = json!({
            "type": "object",
            "required": ["id", "n"],
            "properties": {
                "id": { "$ref": "#/components/schemas/Id" },
                "n": { "type": "integer", "minimum": 1 },
                "e": { "type": ["string", "null"], "enum": ["a", null] },
                "at": { "type": "string", "format": "date-time" }
            },
            "additionalProperties": false
        });
        assert!(errors(&spec, &schema, &json!({ "id": "TS1", "n": 2, "e": null })).is_empty());
        for bad in [
            json!({ "id": "X", "n": 2 }),
            json!({ "id": "TS1", "n": 0 }),
            json!({ "id": "TS1" }),
            json!({ "id": "TS1", "n": 1, "e": "b" }),
            json!({ "id": "TS1", "n": 1, "other": 1 }),
            json!({ "id": "TS1", "n": 1, "at": "2026-03-01" }),
        ] {
            assert!(!errors(&spec, &schema, &bad).is_empty(), "{bad}");
        }
    }
}
