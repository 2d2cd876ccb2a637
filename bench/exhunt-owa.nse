local http = require "http"
local stdnse = require "stdnse"

description = [[
The requests exhunt scan makes, as an nmap script, so that bench/scan can
compare the two on the same emulated fleet: GET /owa/auth/logon.aspx
(Exchange markers and the /owa/auth/<build>/ path, one same-host redirect
followed), the exporttool manifest (exact build) and, when still unknown,
/owa/service (the X-OWA-Version header). Prints the build found and how
exact it is. Facts: ../shared/docs/fingerprint.md section 1 (the public
nmap scripts it describes key on the same paths).
]]

---
-- @usage nmap -n -Pn -p 443 --script bench/exhunt-owa.nse --script-args exhunt-owa.timeout=2000 TARGETS
-- @output
-- | exhunt-owa: exchange=true build=15.1.2176.9 precision=exact

author = "exhunt"
license = "MIT"
categories = {"safe", "version"}

portrule = function(host, port)
  return port.protocol == "tcp" and port.state == "open"
end

local MANIFEST = "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application"

action = function(host, port)
  local timeout = tonumber(stdnse.get_script_args("exhunt-owa.timeout")) or 10000
  local opts = {scheme = "https", redirect_ok = false, timeout = timeout, no_cache = true,
                header = {["User-Agent"] = "Mozilla/5.0 (compatible; exhunt bench nmap)"}}
  local exact, build, exchange = nil, nil, false
  local function header_version(r)
    local v = r and r.header and r.header["x-owa-version"]
    if v and v:match("^%d+%.%d+%.%d+%.%d+$") then exact = exact or v end
  end
  local r = http.get(host, port, "/owa/auth/logon.aspx", opts)
  if not r or not r.status then return "error=no-answer" end
  header_version(r)
  local hops = 0
  while r and r.status and r.status >= 300 and r.status < 400 and hops < 3 do
    local loc = r.header and r.header["location"]
    if not loc or loc:sub(1, 1) ~= "/" then
      return string.format("exchange=false redirect=%s", loc or "")
    end
    hops = hops + 1
    r = http.get(host, port, loc, opts)
    header_version(r)
  end
  if not r or not r.status then return "error=no-answer" end
  local body = r.status == 200 and r.body or ""
  build = body:match("/owa/auth/(%d+%.%d+%.%d+)/") or body:match("/owa/(%d+%.%d+%.%d+%.%d+)/")
  exchange = build ~= nil or body:find("OwaPage", 1, true) ~= nil
             or body:find("IsOwaPremiumBrowser", 1, true) ~= nil or exact ~= nil
  if build and build:match("^%d+%.%d+%.%d+%.%d+$") then exact = exact or build end
  if exchange and not exact then
    local m = http.get(host, port, MANIFEST, opts)
    header_version(m)
    if m and m.status == 200 and m.body then
      for tag in m.body:gmatch("<assemblyIdentity[^>]*>") do
        local v = tag:match('version="(%d+%.%d+%.%d+%.%d+)"')
        if tag:find("microsoft.exchange.ediscovery.exporttool", 1, true) and v then exact = exact or v end
      end
    end
  end
  if exchange and not exact then
    header_version(http.get(host, port, "/owa/service", opts))
  end
  if exact then
    return string.format("exchange=true build=%s precision=exact", exact)
  elseif build then
    return string.format("exchange=true build=%s precision=cu", build)
  end
  return string.format("exchange=%s status=%d", tostring(exchange), r.status)
end
