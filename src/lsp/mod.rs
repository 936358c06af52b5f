//! `trialsim lsp`: a language server over stdio for editing specs.
//!
//! Diagnostics as you type (the checker's, with their codes and related places), hover, completion,
//! go to definition, find references, the outline, formatting (`trialsim fmt`) and quick fixes for
//! every "did you mean" hint. Documents are synchronised incrementally; positions are UTF-16
//! code units, as the protocol's default.
//!
//! The server must outlive anything a client sends: every request runs under `catch_unwind`, bad
//! positions are clamped (see [`text`]), a request about a document that is not open gets an
//! empty answer, a document too large to check as you type gets one diagnostic saying so, and a
//! client that goes away ends the server quietly.

mod features;
pub mod index;
pub mod text;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::{
    CodeActionKind, CodeActionProviderCapability, CompletionOptions, HoverProviderCapability,
    InitializeResult, OneOf, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, Url,
};

pub use features::diagnostics;

/// Documents larger than this are not checked as you type (one diagnostic says so).
pub const MAX_CHECKED_BYTES: usize = 2 << 20;

/// An open document.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    pub(crate) text: String,
    /// The model of the last version that checked: hover shows resolved rates from it while
    /// the current text has a mistake.
    pub(crate) model: Option<crate::model::TrialModel>,
}

/// The server's state: the open documents.
#[derive(Debug, Default)]
pub struct Server {
    docs: HashMap<Url, Doc>,
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string()]),
            ..CompletionOptions::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(
            lsp_types::CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                ..lsp_types::CodeActionOptions::default()
            },
        )),
        ..ServerCapabilities::default()
    }
}

/// Runs the server on stdin and stdout until the client says `exit` or goes away.
pub fn run() -> ExitCode {
    let (connection, io) = Connection::stdio();
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "trialsim".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    let Ok(result) = serde_json::to_value(result) else {
        return ExitCode::FAILURE;
    };
    let started = connection
        .initialize_start()
        .and_then(|(id, _)| connection.initialize_finish(id, result));
    if started.is_err() {
        // The client went away (or never spoke the protocol) before initialising.
        return ExitCode::from(crate::cli::EXIT_SPEC_ERROR);
    }
    let mut server = Server::default();
    let clean = server.serve(&connection);
    drop(connection);
    if clean {
        let _ = io.join();
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::cli::EXIT_SPEC_ERROR)
    }
}

impl Server {
    /// Handles messages until `exit` (true after a `shutdown`) or a closed connection (false).
    pub fn serve(&mut self, connection: &Connection) -> bool {
        let mut shut_down = false;
        for message in &connection.receiver {
            match message {
                Message::Request(req) => {
                    if req.method == "shutdown" {
                        shut_down = true;
                        let _ = connection
                            .sender
                            .send(Response::new_ok(req.id.clone(), ()).into());
                        continue;
                    }
                    let id = req.id.clone();
                    let response = catch_unwind(AssertUnwindSafe(|| self.request(req)))
                        .unwrap_or_else(|_| {
                            Response::new_err(
                                id,
                                ErrorCode::InternalError as i32,
                                "trialsim could not answer this request".to_string(),
                            )
                        });
                    if connection.sender.send(response.into()).is_err() {
                        return false;
                    }
                }
                Message::Notification(n) => {
                    if n.method == lsp_types::notification::Exit::METHOD {
                        return shut_down;
                    }
                    let out =
                        catch_unwind(AssertUnwindSafe(|| self.notification(n))).unwrap_or_default();
                    for n in out {
                        if connection.sender.send(n.into()).is_err() {
                            return false;
                        }
                    }
                }
                Message::Response(_) => {}
            }
        }
        false
    }

    fn publish(&mut self, uri: &Url) -> Notification {
        let diagnostics = match self.docs.get_mut(uri) {
            Some(doc) => {
                let (diagnostics, model) = features::check(uri, &doc.text);
                if model.is_some() {
                    doc.model = model;
                }
                diagnostics
            }
            None => Vec::new(),
        };
        Notification::new(
            lsp_types::notification::PublishDiagnostics::METHOD.to_string(),
            lsp_types::PublishDiagnosticsParams {
                uri: uri.clone(),
                diagnostics,
                version: None,
            },
        )
    }

    /// Applies a notification; returns the notifications to send back (diagnostics).
    pub fn notification(&mut self, n: Notification) -> Vec<Notification> {
        use lsp_types::notification::{
            DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument,
        };
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let uri = p.text_document.uri;
                self.docs.insert(
                    uri.clone(),
                    Doc {
                        text: p.text_document.text,
                        model: None,
                    },
                );
                vec![self.publish(&uri)]
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let uri = p.text_document.uri;
                let Some(doc) = self.docs.get_mut(&uri) else {
                    return Vec::new();
                };
                for change in p.content_changes {
                    text::apply_change(&mut doc.text, change);
                }
                vec![self.publish(&uri)]
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let uri = p.text_document.uri;
                self.docs.remove(&uri);
                // Clear the closed document's diagnostics.
                vec![self.publish(&uri)]
            }
            _ => Vec::new(),
        }
    }

    /// Answers a request.
    pub fn request(&mut self, req: Request) -> Response {
        use lsp_types::request::{
            CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition,
            HoverRequest, References, Request as _,
        };
        let id = req.id.clone();
        macro_rules! answer {
            ($params:ty, $f:expr) => {
                match serde_json::from_value::<$params>(req.params) {
                    Ok(p) => Response::new_ok(id, $f(&*self, p)),
                    Err(err) => Response::new_err(
                        id,
                        ErrorCode::InvalidParams as i32,
                        format!("invalid parameters: {err}"),
                    ),
                }
            };
        }
        match req.method.as_str() {
            HoverRequest::METHOD => answer!(lsp_types::HoverParams, features::hover),
            Completion::METHOD => answer!(lsp_types::CompletionParams, features::completion),
            GotoDefinition::METHOD => {
                answer!(lsp_types::GotoDefinitionParams, features::definition)
            }
            References::METHOD => answer!(lsp_types::ReferenceParams, features::references),
            DocumentSymbolRequest::METHOD => {
                answer!(lsp_types::DocumentSymbolParams, features::symbols)
            }
            Formatting::METHOD => {
                answer!(lsp_types::DocumentFormattingParams, features::formatting)
            }
            CodeActionRequest::METHOD => {
                answer!(lsp_types::CodeActionParams, features::code_actions)
            }
            _ => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("trialsim does not answer `{}`", req.method),
            ),
        }
    }

    pub(crate) fn doc(&self, uri: &Url) -> Option<&Doc> {
        self.docs.get(uri)
    }
}
