-- wrk script for the query benchmarks: sends `Authorization: Bearer $TOKEN`.
-- wrk -t1 -c64 -d10s -s crates/tools/wrk/bearer.lua http://127.0.0.1:18080/api/v1/board
-- (TOKEN from the environment, e.g. a token made with POST /api/v1/tokens.)
local token = os.getenv("TOKEN") or ""
wrk.headers["Authorization"] = "Bearer " .. token
