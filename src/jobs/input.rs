//! The input of a batch job: a JSONL file of `{"id": …, "text": …}` objects (other fields are
//! carried through to the output), and the output lines built for each item.
//!
//! Blank lines are skipped (as in `dragoman translate --jsonl`). A line that cannot be an item
//! (not UTF-8, not a JSON object, no string `text`, empty text, too long) is still an item: it
//! fails at once with an error line, so the output has one line per input line.

use std::path::{Path, PathBuf};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::store::hex;
use super::JobError;

/// The input file, read once: its identity and its bytes.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Absolute path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl InputFile {
    /// Reads and hashes `path`.
    pub fn read(path: &Path) -> Result<Self, JobError> {
        let error = |source| JobError::Input {
            path: path.to_path_buf(),
            source,
        };
        let bytes = std::fs::read(path).map_err(error)?;
        let absolute = std::path::absolute(path).map_err(error)?;
        Ok(Self {
            path: absolute,
            size: bytes.len() as u64,
            sha256: hex(&Sha256::digest(&bytes)),
            bytes,
        })
    }

    /// The items of the file, in order; lines longer than `max_chars` characters fail.
    pub fn items(&self, max_chars: usize) -> Vec<NewItem> {
        parse_items(&self.bytes, max_chars)
    }
}

/// An item to store when a job is created.
#[derive(Debug, Clone, PartialEq)]
pub enum NewItem {
    /// A valid line, queued for the task.
    Queued {
        /// 1-based input line.
        line: u64,
        /// The line (a JSON object with a non-empty `text`).
        input: String,
    },
    /// A line rejected as it was read.
    Rejected {
        /// 1-based input line.
        line: u64,
        /// Its error output line.
        output: String,
    },
}

/// Splits JSONL bytes into items.
pub fn parse_items(bytes: &[u8], max_chars: usize) -> Vec<NewItem> {
    let mut items = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index as u64 + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let item = match std::str::from_utf8(raw) {
            Ok(text) => parse_item(line, text.trim_end_matches('\r'), max_chars),
            Err(e) => NewItem::Rejected {
                line,
                output: line_error(line, &format!("line {line} is not valid UTF-8: {e}")),
            },
        };
        items.push(item);
    }
    items
}

/// Turns one input object (line `line` of the input, or item `line` of a list) into an item:
/// queued when it is a JSON object with a non-empty string `text` of at most `max_chars`
/// characters, else rejected with its error line.
pub fn parse_item(line: u64, text: &str, max_chars: usize) -> NewItem {
    let rejected = |output: String| NewItem::Rejected { line, output };
    let fields = match ItemFields::parse(text) {
        Ok(fields) => fields,
        Err(message) => return rejected(line_error(line, &format!("line {line}: {message}"))),
    };
    let problem = match &fields.text {
        None => Some("expected a string \"text\" field".to_string()),
        Some(t) if t.trim().is_empty() => Some("the text is empty".to_string()),
        Some(t) if t.chars().count() > max_chars => Some(format!(
            "the text has {} characters; the limit is {max_chars}",
            t.chars().count()
        )),
        Some(_) => None,
    };
    match problem {
        Some(message) => {
            rejected(fields.output_line("error", Value::String(format!("line {line}: {message}"))))
        }
        None => NewItem::Queued {
            line,
            input: text.to_string(),
        },
    }
}

/// `{"line": N, "error": …}` for a line with no id.
pub fn line_error(line: u64, message: &str) -> String {
    // By hand: `json!` would sort the keys, and the line number reads better first.
    format!(
        "{{\"line\":{line},\"error\":{}}}",
        Value::String(message.to_string())
    )
}

/// An input object: its id, its text, and its other fields in their original order.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemFields {
    /// The `id` field (`null` when absent).
    pub id: Value,
    /// The `text` field when it is a string.
    pub text: Option<String>,
    /// Every other field, in input order.
    pub extra: Vec<(String, Value)>,
}

impl ItemFields {
    /// Parses one JSON object.
    pub fn parse(line: &str) -> Result<Self, String> {
        let Ordered(fields) = serde_json::from_str::<Ordered>(line)
            .map_err(|e| format!("expected a JSON object {{\"id\": …, \"text\": \"…\"}}: {e}"))?;
        let mut item = ItemFields {
            id: Value::Null,
            text: None,
            extra: Vec::new(),
        };
        for (key, value) in fields {
            match key.as_str() {
                "id" => item.id = value,
                "text" => item.text = value.as_str().map(str::to_string),
                _ => {
                    item.extra.retain(|(k, _)| *k != key);
                    item.extra.push((key, value));
                }
            }
        }
        Ok(item)
    }

    /// The output line: `{"id": …, <other fields>, <field>: <value>}` (an input field named like
    /// the result field, or `error`, is dropped).
    pub fn output_line(&self, field: &str, value: Value) -> String {
        let line = OutputLine {
            id: &self.id,
            extra: &self.extra,
            field,
            value: &value,
        };
        serde_json::to_string(&line).expect("JSON values serialize; this is a bug")
    }
}

/// A JSON object with its keys in document order (serde_json's map sorts them).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    fields.push((key, value));
                }
                Ok(Ordered(fields))
            }
        }
        deserializer.deserialize_map(OrderedVisitor)
    }
}

/// One element of a JSON list of items, kept as the JSONL line it stands for: an object keeps
/// its keys in document order; anything else is kept as is (and fails as an item).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonItem(pub String);

impl<'de> Deserialize<'de> for JsonItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Any {
            Object(Ordered),
            Other(Value),
        }
        struct Fields<'a>(&'a [(String, Value)]);
        impl Serialize for Fields<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (key, value) in self.0 {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
        let line = match Any::deserialize(deserializer)? {
            Any::Object(Ordered(fields)) => serde_json::to_string(&Fields(&fields)),
            Any::Other(value) => serde_json::to_string(&value),
        }
        .map_err(serde::de::Error::custom)?;
        Ok(Self(line))
    }
}

struct OutputLine<'a> {
    id: &'a Value,
    extra: &'a [(String, Value)],
    field: &'a str,
    value: &'a Value,
}

impl Serialize for OutputLine<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", self.id)?;
        for (key, value) in self.extra {
            if key != self.field && key != "error" {
                map.serialize_entry(key, value)?;
            }
        }
        map.serialize_entry(self.field, self.value)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_items_and_bad_lines_error_results() {
        let input = b"{\"id\": 1, \"text\": \"Bonjour.\", \"z\": 1, \"a\": [2]}\n\nnot json\n[1]\n{\"id\": \"x\"}\n{\"id\": 2, \"text\": \"  \"}\n{\"id\": 3, \"text\": \"trop long\"}\n";
        let items = parse_items(input, 8);
        assert_eq!(items.len(), 6);
        assert!(matches!(&items[0], NewItem::Queued { line: 1, .. }));
        let output = |i: usize| match &items[i] {
            NewItem::Rejected { output, .. } => output.clone(),
            other => panic!("{other:?}"),
        };
        assert!(
            output(1).starts_with("{\"line\":3,\"error\":"),
            "{}",
            output(1)
        );
        assert!(output(2).starts_with("{\"line\":4,"), "{}", output(2));
        assert!(
            output(3).starts_with("{\"id\":\"x\",\"error\":"),
            "{}",
            output(3)
        );
        assert!(output(4).contains("empty"), "{}", output(4));
        assert!(output(5).contains("limit is 8"), "{}", output(5));
    }

    #[test]
    fn json_items_keep_their_key_order() {
        let items: Vec<JsonItem> =
            serde_json::from_str("[{\"z\": 1, \"id\": 2, \"text\": \"t\"}, \"x\", [1]]")
                .expect("parses");
        assert_eq!(items[0].0, "{\"z\":1,\"id\":2,\"text\":\"t\"}");
        assert_eq!(items[1].0, "\"x\"");
        assert!(matches!(
            parse_item(2, &items[1].0, 10),
            NewItem::Rejected { .. }
        ));
    }

    #[test]
    fn output_keeps_the_input_field_order() {
        let fields = ItemFields::parse(
            "{\"z\": 1, \"id\": 7, \"text\": \"t\", \"a\": {\"b\": 2}, \"translation\": 0}",
        )
        .expect("parses");
        assert_eq!(
            fields.output_line("translation", Value::String("T".into())),
            "{\"id\":7,\"z\":1,\"a\":{\"b\":2},\"translation\":\"T\"}"
        );
    }
}
