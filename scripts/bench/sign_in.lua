-- wrk script: a password sign-in from a new browser, POST /v1/client/sign_ins on the Frontend API
-- with no cookie, so every request creates a client, checks the argon2id hash and starts a
-- session (set EMAIL and PASSWORD).
local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
wrk.method = "POST"
wrk.path = "/v1/client/sign_ins?__clerk_api_version=2025-11-10"
wrk.headers["Origin"] = "http://localhost:3000"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "strategy=password&identifier=" .. encode(os.getenv("EMAIL")) .. "&password=" .. encode(os.getenv("PASSWORD"))
