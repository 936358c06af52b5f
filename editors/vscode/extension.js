// Starts `trialsim lsp` for `.trial` files. The binary is `trialsim` on the PATH unless the
// setting `trialsim.path` names another.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("trialsim").get("path") || "trialsim";
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "trialsim",
    "trialsim",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "trial" }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
