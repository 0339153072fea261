-- Workload of bench/realworld.sh's lua program: calls, closures, tables, strings, metatables and
-- floats, scaled by the global N. Prints checksums only (iteration order of pairs() is not
-- relied on: the string hash seed differs between builds).
local N = N or 1
math.randomseed(42)

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end

-- sorting with a comparator closure
local function sorting(n)
  local t = {}
  for i = 1, n do t[i] = math.random(1, 1000000) end
  table.sort(t, function(a, b) return a > b end)
  local s = 0
  for i = 1, n, 97 do s = s + t[i] * (i % 13) end
  return s
end

-- word counts with string.format, gsub, gmatch and a hash table
local function words(n)
  local syll = {"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "qu"}
  local parts = {}
  for i = 1, n do
    local w = syll[math.random(#syll)] .. syll[math.random(#syll)]
    if i % 3 == 0 then w = w .. syll[math.random(#syll)] end
    parts[#parts + 1] = string.format("%s%d", w, i % 7)
  end
  local text = table.concat(parts, " ")
  local counts, distinct = {}, 0
  for w in text:gmatch("%a+%d") do
    if not counts[w] then distinct = distinct + 1 end
    counts[w] = (counts[w] or 0) + 1
  end
  local upper = text:upper():gsub("KA", "ka")
  local total = 0
  for w, c in pairs(counts) do total = total + c * #w end
  return distinct * 1000003 + total + #upper + select(2, text:gsub("lo", "LO"))
end

-- objects with metatables
local Vec = {}
Vec.__index = Vec
local function vec(x, y) return setmetatable({x = x, y = y}, Vec) end
Vec.__add = function(a, b) return vec(a.x + b.x, a.y + b.y) end
Vec.__mul = function(a, k) return vec(a.x * k, a.y * k) end
function Vec:len2() return self.x * self.x + self.y * self.y end
local function particles(n, steps)
  local ps = {}
  for i = 1, n do ps[i] = {p = vec(i, -i), v = vec(math.sin(i), math.cos(i))} end
  local e = 0.0
  for _ = 1, steps do
    for i = 1, n do
      local q = ps[i]
      q.p = q.p + q.v * 0.01
      if q.p:len2() > 1e6 then q.v = q.v * -1 end
    end
  end
  for i = 1, n do e = e + ps[i].p:len2() end
  return e
end

-- spectral norm (float arithmetic in loops)
local function A(i, j)
  local ij = i + j - 1
  return 1.0 / (ij * (ij - 1) * 0.5 + i)
end
local function Av(x, y, n)
  for i = 1, n do
    local a = 0
    for j = 1, n do a = a + x[j] * A(i, j) end
    y[i] = a
  end
end
local function Atv(x, y, n)
  for i = 1, n do
    local a = 0
    for j = 1, n do a = a + x[j] * A(j, i) end
    y[i] = a
  end
end
local function spectral(n)
  local u, v, t = {}, {}, {}
  for i = 1, n do u[i] = 1 end
  for _ = 1, 10 do
    Av(u, t, n) Atv(t, v, n)
    Av(v, t, n) Atv(t, u, n)
  end
  local vBv, vv = 0, 0
  for i = 1, n do
    local ui, vi = u[i], v[i]
    vBv = vBv + ui * vi
    vv = vv + vi * vi
  end
  return math.sqrt(vBv / vv)
end

-- a string builder, string.byte/char and utf8
local function strings(n)
  local buf = {}
  for i = 1, n do buf[i] = string.char(65 + i % 26, 97 + (i * 7) % 26) end
  local s = table.concat(buf)
  local h = 0
  for i = 1, #s, 3 do h = (h * 31 + s:byte(i)) % 2147483647 end
  local rev = s:reverse():sub(1, 1000)
  local u = utf8.char(0x3b1, 0x3b2, 0x3b3):rep(n // 100)
  return h + #rev + utf8.len(u) + #s:rep(2, ",")
end

local total = 0
for _ = 1, N do
  local f = fib(27)
  local s = sorting(60000)
  local w = words(60000)
  local p = particles(300, 200)
  local sp = spectral(120)
  local st = strings(200000)
  total = (total + f + s + w + st) % 1000000007
  print(string.format("fib %d sort %d words %d particles %.6e spectral %.9f strings %d", f, s, w, p,
                      sp, st))
end
print("lua checksum " .. total)
