//! `trialsim lsp` driven over stdio with JSON-RPC, as an editor drives it.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use serde_json::{Value, json};

use crate::common::trialsim;

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl Client {
    fn start() -> Self {
        let mut child = trialsim()
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("trialsim lsp starts");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut c = Self {
            child,
            stdin,
            stdout,
            next_id: 0,
        };
        let init = c.request("initialize", json!({ "capabilities": {} }));
        assert_eq!(
            init["capabilities"]["textDocumentSync"],
            json!(2),
            "incremental"
        );
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        stdin.flush().expect("flush");
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).expect("read") > 0,
                "server closed"
            );
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().expect("length");
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).expect("body");
        serde_json::from_slice(&body).expect("JSON")
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its result, skipping notifications on the way.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let m = self.receive();
            if m["id"] == json!(id) {
                assert!(m.get("error").is_none(), "{method}: {m}");
                return m["result"].clone();
            }
        }
    }

    /// The next diagnostics published.
    fn diagnostics(&mut self) -> Vec<Value> {
        loop {
            let m = self.receive();
            if m["method"] == "textDocument/publishDiagnostics" {
                return m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "trial", "version": 1, "text": text } }),
        );
        self.diagnostics()
    }

    fn change(&mut self, uri: &str, range: Value, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": 2 },
                    "contentChanges": [{ "range": range, "text": text }] }),
        );
        self.diagnostics()
    }

    fn shutdown(mut self) -> Option<i32> {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        self.child.wait().expect("exits").code()
    }
}

fn at(line: usize, character: usize) -> Value {
    json!({ "line": line, "character": character })
}

fn doc(uri: &str, line: usize, character: usize) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": at(line, character) })
}

const URI: &str = "file:///tmp/pilot.trial";

/// A small spec with non-ASCII text before the names (UTF-16 columns differ from bytes there).
const SPEC: &str = "# Pilot € ≥ é\ntrial \"Pilot é\" {\n  follow_up 52 weeks  # a year [report p. 3]\n  sample 100 per arm\n  arm experiment {\n    path guided rest {\n      work within 12 months: 30%\n    }\n  }\n  arm control { work within 12 months: 20% }\n  outcome employed = worked within 12 months\n  analysis primary {\n    compare employed: experiment vs control  # € ≥\n    test pooled_z, two_sided, alpha 5%\n  }\n}\n";

#[test]
fn an_editing_session_end_to_end() {
    let mut c = Client::start();
    let diags = c.open(URI, SPEC);
    assert!(diags.iter().all(|d| d["severity"] != json!(1)), "{diags:?}");

    // A mistake: `control` → `contrl` in the analysis (line 12, after `€ ≥` nowhere before it).
    let line = SPEC.lines().nth(12).expect("line 12");
    let col = line.find("control").expect("control");
    let diags = c.change(
        URI,
        json!({ "start": at(12, col), "end": at(12, col + 7) }),
        "contrl",
    );
    let unknown = diags
        .iter()
        .find(|d| d["code"] == "trialsim::check::unknown_arm")
        .expect("unknown arm reported");
    assert_eq!(unknown["range"]["start"], at(12, col));
    assert!(
        unknown["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean `control`?"))
    );

    // The quick fix puts `control` back.
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI },
                "range": { "start": at(12, col), "end": at(12, col) },
                "context": { "diagnostics": [] } }),
    );
    let edit = &actions[0]["edit"]["changes"][URI][0];
    assert_eq!(edit["newText"], "control");
    assert_eq!(edit["range"]["start"], at(12, col));

    // Hover on the outcome's use shows its declaration.
    let use_col = line.find("employed").expect("employed");
    let hover = c.request("textDocument/hover", doc(URI, 12, use_col + 1));
    let text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(text.contains("**outcome** `employed`"), "{text}");
    assert!(
        text.contains("outcome employed = worked within 12 months"),
        "{text}"
    );

    // Hover on a quantity: 52 weeks in months, with the citation comment of its line.
    let hover = c.request("textDocument/hover", doc(URI, 2, 13));
    let text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(text.contains("`52 weeks` = 12 months"), "{text}");
    assert!(text.contains("a year [report p. 3]"), "{text}");

    // Definition: the outcome's declaration on line 10.
    let def = c.request("textDocument/definition", doc(URI, 12, use_col + 1));
    assert_eq!(def["range"]["start"], at(10, 10));

    // References of an arm: its declaration and its use in the analysis.
    let refs = c.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": URI }, "position": at(4, 7),
                "context": { "includeDeclaration": true } }),
    );
    assert_eq!(refs.as_array().map(Vec::len), Some(2), "{refs}");

    // Completion at the start of a statement in the analysis: its keywords.
    let items = c.request("textDocument/completion", doc(URI, 13, 4));
    let labels: Vec<&str> = items
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"test") && labels.contains(&"compare"),
        "{labels:?}"
    );
    // After `vs `: names, among them the arms.
    let vs = line.find("vs ").expect("vs") + 3;
    let items = c.request("textDocument/completion", doc(URI, 12, vs));
    let labels: Vec<&str> = items
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(labels.contains(&"experiment"), "{labels:?}");

    // The outline.
    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": URI } }),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .expect("symbols")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&"arm experiment") && names.contains(&"analysis primary"),
        "{names:?}"
    );

    // Formatting: one edit, the canonical text.
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let new = edits[0]["newText"].as_str().expect("an edit");
    assert!(
        new.contains("  arm control {\n    work within 12 months: 20%\n  }"),
        "{new}"
    );

    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn bad_input_never_crashes_the_server() {
    let mut c = Client::start();
    c.open(URI, SPEC);
    // Positions past the end, inside a surrogate pair, on lines that do not exist.
    for (line, character) in [
        (0, 9999),
        (9999, 0),
        (0, 8),
        (u32::MAX as usize, u32::MAX as usize),
    ] {
        let _ = c.request("textDocument/hover", doc(URI, line, character));
        let _ = c.request("textDocument/completion", doc(URI, line, character));
        let _ = c.request("textDocument/definition", doc(URI, line, character));
    }
    // An edit whose range is backwards and out of bounds.
    c.change(URI, json!({ "start": at(50, 3), "end": at(2, 1) }), "é€");
    // A document nobody opened.
    let unknown = c.request("textDocument/hover", doc("file:///nowhere.trial", 0, 0));
    assert_eq!(unknown, Value::Null);
    // A 10 MB document: one diagnostic saying it is too large, and answers stay quick.
    let big = format!(
        "trial \"big\" {{\n{}}}\n",
        "  outcome o = binary  # €\n".repeat(400_000)
    );
    assert!(big.len() > 10_000_000);
    let diags = c.open("file:///tmp/big.trial", &big);
    assert_eq!(diags.len(), 1);
    assert!(
        diags[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("too large"))
    );
    let _ = c.request("textDocument/hover", doc("file:///tmp/big.trial", 5, 5));
    // Invalid parameters get an error response, not a crash.
    c.next_id += 1;
    let id = c.next_id;
    c.send(&json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": { "x": 1 } }));
    let reply = loop {
        let m = c.receive();
        if m["id"] == json!(id) {
            break m;
        }
    };
    assert!(reply["error"]["code"].is_number(), "{reply}");
    // Still answering.
    let hover = c.request("textDocument/hover", doc(URI, 10, 12));
    assert!(hover["contents"]["value"].as_str().is_some());
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_client_that_disconnects_ends_the_server_quietly() {
    let mut c = Client::start();
    c.open(URI, SPEC);
    // Half a message, then the pipe closes.
    if let Some(stdin) = c.stdin.as_mut() {
        let _ = stdin.write_all(b"Content-Length: 500\r\n\r\n{\"jsonrpc\"");
    }
    drop(c.stdin.take());
    let status = c.child.wait().expect("exits");
    // Not killed by a signal (a panic would abort with 101).
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
}

#[test]
fn ranges_count_utf16_code_units_after_non_ascii_text() {
    let mut c = Client::start();
    // `experimnt` follows `"grüp€𝄞"` on its line: 7 characters, 8 UTF-16 units, 12 bytes.
    let text = SPEC.replace(
        "  analysis primary {",
        "  data {\n    id \"id\"\n    arm \"grüp€𝄞\" { \"E\" -> experimnt, \"C\" -> control }\n  }\n  analysis primary {",
    );
    let diags = c.open(URI, &text);
    let line = text.lines().nth(13).expect("the data arm line");
    let byte = line.find("experimnt").expect("experimnt");
    let utf16 = line[..byte].encode_utf16().count();
    assert_ne!(utf16, byte);
    let d = diags
        .iter()
        .find(|d| d["code"] == "trialsim::check::unknown_arm")
        .expect("unknown arm");
    assert_eq!(d["range"]["start"], at(13, utf16), "{d}");
    assert_eq!(d["range"]["end"], at(13, utf16 + 9), "{d}");
    // Hover there gives the position back the same way.
    let hover = c.request("textDocument/hover", doc(URI, 13, utf16 + 2));
    assert_eq!(hover["range"]["start"], at(13, utf16), "{hover}");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_misspelt_keyword_gets_a_quick_fix_on_the_word() {
    let mut c = Client::start();
    let text = SPEC.replace("arm control { work within", "arm control { wrok within");
    let diags = c.open(URI, &text);
    assert!(
        diags.iter().any(|d| d["code"] == "trialsim::syntax"),
        "{diags:?}"
    );
    let line = text.lines().nth(9).expect("line 9");
    let col = line.find("wrok").expect("wrok");
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI },
                "range": { "start": at(9, col), "end": at(9, col + 4) },
                "context": { "diagnostics": [] } }),
    );
    let edit = &actions[0]["edit"]["changes"][URI][0];
    assert_eq!(edit["newText"], "work", "{actions}");
    assert_eq!(edit["range"]["start"], at(9, col));
    assert_eq!(edit["range"]["end"], at(9, col + 4));
    assert_eq!(c.shutdown(), Some(0));
}
