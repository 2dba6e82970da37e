-- wrk script for bench/serve: every request POSTs the same body (K entries
-- of LEN bytes, one per line) to /add with an append credential.
-- Environment: BENCH_TOKEN, BENCH_K, BENCH_LEN.
local k = tonumber(os.getenv("BENCH_K") or "1")
local len = tonumber(os.getenv("BENCH_LEN") or "256")
local lines = {}
for i = 1, k do
	lines[i] = string.rep(string.char(97 + (i % 26)), len)
end
wrk.method = "POST"
wrk.path = "/add"
wrk.body = table.concat(lines, "\n") .. "\n"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Content-Type"] = "text/plain"

function done(summary, latency, requests)
	io.write(string.format("BENCH requests=%d non2xx=%d errors=%d p50_ms=%.3f p99_ms=%.3f seconds=%.3f\n",
		summary.requests, summary.errors.status,
		summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		summary.duration / 1e6))
end
