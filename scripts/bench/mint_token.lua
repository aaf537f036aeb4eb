-- wrk script: POST /v1/sessions/{id}/tokens with the secret key (set SESSION_ID and SECRET_KEY).
wrk.method = "POST"
wrk.path = "/v1/sessions/" .. os.getenv("SESSION_ID") .. "/tokens"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SECRET_KEY")
wrk.headers["Content-Type"] = "application/json"
