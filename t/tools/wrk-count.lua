-- wrk script for t/99-reload-load.t: counts the responses by status and
-- checks each 200's body length; done() prints one line the test reads:
--   counts s200=N s402=N other=N badlen=N connect=N read=N write=N timeout=N
-- Arguments (after --): the expected body length of a 200.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    want = tonumber(args[1]) or -1
    s200, s402, other, badlen = 0, 0, 0, 0
end

function response(status, headers, body)
    if status == 200 then
        s200 = s200 + 1
        if #body ~= want then badlen = badlen + 1 end
    elseif status == 402 then
        s402 = s402 + 1
    else
        other = other + 1
    end
end

function done(summary, latency, requests)
    local t = { s200 = 0, s402 = 0, other = 0, badlen = 0 }
    for _, thread in ipairs(threads) do
        for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
    end
    local e = summary.errors
    io.write(string.format(
        "counts s200=%d s402=%d other=%d badlen=%d connect=%d read=%d write=%d timeout=%d\n",
        t.s200, t.s402, t.other, t.badlen, e.connect, e.read, e.write, e.timeout))
end
