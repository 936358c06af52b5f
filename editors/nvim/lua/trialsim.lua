-- The built-in LSP client for trialsim specs, for Neovim 0.7 and later.
--
--   require("trialsim").setup()                      -- `trialsim` on the PATH
--   require("trialsim").setup({ cmd = { "/path/to/trialsim", "lsp" } })
--
-- Uses `vim.lsp.start_client` and `vim.lsp.buf_attach_client` (Neovim 0.7 has no
-- `vim.lsp.start`): one client per editor, attached to every buffer of filetype `trial`.
local M = {}

local client_id = nil

local function root_of(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = vim.fn.fnamemodify(name, ":p:h")
  local git = vim.fn.finddir(".git", dir .. ";")
  if git ~= "" then
    return vim.fn.fnamemodify(git, ":p:h:h")
  end
  return dir
end

function M.attach(bufnr, opts)
  opts = opts or {}
  if client_id == nil or vim.lsp.get_client_by_id(client_id) == nil then
    client_id = vim.lsp.start_client({
      name = "trialsim",
      cmd = opts.cmd or { "trialsim", "lsp" },
      root_dir = root_of(bufnr),
      on_attach = opts.on_attach,
    })
  end
  if client_id ~= nil then
    vim.lsp.buf_attach_client(bufnr, client_id)
  end
  return client_id
end

function M.setup(opts)
  vim.api.nvim_create_autocmd("FileType", {
    pattern = "trial",
    callback = function(args)
      M.attach(args.buf, opts)
    end,
  })
end

return M
