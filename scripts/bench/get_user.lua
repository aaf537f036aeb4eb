-- wrk script: GET /v1/users/{id} with the secret key (set USER_ID and SECRET_KEY in the environment).
wrk.method = "GET"
wrk.path = "/v1/users/" .. os.getenv("USER_ID")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SECRET_KEY")
wrk.headers["Content-Type"] = "application/json"
