-- Driven by test.sh: open the spec, attach trialsim's server, and ask it things.
vim.opt.runtimepath:append(os.getenv("RTP"))
vim.cmd("filetype on")
vim.cmd("runtime! ftdetect/*.vim")

local failures = 0
local function check(ok, what)
  if ok then
    io.stdout:write("ok    " .. what .. "\n")
  else
    io.stdout:write("FAIL  " .. what .. "\n")
    failures = failures + 1
  end
end

vim.cmd("edit " .. os.getenv("SPEC"))
local bufnr = vim.api.nvim_get_current_buf()
check(vim.bo[bufnr].filetype == "trial", "filetype detected as trial")

local id = require("trialsim").attach(bufnr, { cmd = { os.getenv("TRIALSIM"), "lsp" } })
check(id ~= nil, "client started")

-- Diagnostics: the misspelt arm.
local got = vim.wait(20000, function()
  return #vim.diagnostic.get(bufnr) > 0
end, 50)
local diags = vim.diagnostic.get(bufnr)
check(got, "diagnostics arrived (" .. #diags .. ")")
local unknown = false
for _, d in ipairs(diags) do
  if d.message:find("contrl", 1, true) and d.message:find("did you mean `control`", 1, true) then
    unknown = true
    io.stdout:write("      line " .. (d.lnum + 1) .. ": " .. d.message:gsub("\n", " / ") .. "\n")
  end
end
check(unknown, "the unknown arm is reported with its suggestion")

local function position_of(pattern)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  for i, line in ipairs(lines) do
    local col = line:find(pattern, 1, true)
    if col then
      return { line = i - 1, character = col - 1 }
    end
  end
end

-- Hover on the outcome's use in the analysis.
local use = position_of("compare work_12m")
use.character = use.character + #"compare "
local params = { textDocument = vim.lsp.util.make_text_document_params(bufnr), position = use }
local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", params, 10000) or {}
local hover_text = ""
for _, r in pairs(hover) do
  if r.result and r.result.contents then
    hover_text = r.result.contents.value or ""
  end
end
io.stdout:write("      hover: " .. hover_text:gsub("\n", " / ") .. "\n")
check(hover_text:find("outcome", 1, true) and hover_text:find("worked within 12 months", 1, true), "hover shows the declaration")

-- Go to definition: to `outcome work_12m = ...`.
local def = vim.lsp.buf_request_sync(bufnr, "textDocument/definition", params, 10000) or {}
local target = nil
for _, r in pairs(def) do
  if r.result then
    target = r.result.range or (r.result[1] and (r.result[1].range or r.result[1].targetRange))
  end
end
local decl = position_of("outcome work_12m")
check(target ~= nil and target.start.line == decl.line, "definition goes to the outcome's declaration")

vim.lsp.stop_client(id)
if failures > 0 then
  io.stdout:write(failures .. " failed\n")
  vim.cmd("cquit 1")
else
  io.stdout:write("all passed\n")
  vim.cmd("qall!")
end
