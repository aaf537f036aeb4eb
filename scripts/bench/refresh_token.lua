-- wrk script: the browser's 50-second refresh, POST /v1/client/sessions/{id}/tokens on the
-- Frontend API with the __client cookie from an accepted origin (set SESSION_ID and CLIENT_COOKIE).
wrk.method = "POST"
wrk.path = "/v1/client/sessions/" .. os.getenv("SESSION_ID") .. "/tokens?__clerk_api_version=2025-11-10"
wrk.headers["Cookie"] = "__client=" .. os.getenv("CLIENT_COOKIE")
wrk.headers["Origin"] = "http://localhost:3000"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = ""
