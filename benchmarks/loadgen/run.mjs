#!/usr/bin/env node
// Closed-loop HTTP load generator for the W2 benchmarks (autocannon, one process, no workers).
//
//   node run.mjs --url URL (--body-file F | --body JSON) [--connections 16] [--duration 15]
//                [--ids-file FILE] [--timeout 30] [--warmup 0] [--parse-every 10]
//                [--method POST] [--header 'Name: value' ...]
//
// POSTs the body (a GraphQL {"query", "variables"} document, or any JSON) over keep-alive
// connections, each sending its next request as soon as the previous answer arrives, and
// prints one JSON line on stdout.
//
// Placeholders in the body are filled in again for every request:
//   __ID__   a random id from --ids-file (a JSON array of strings, or one id per line),
//            inserted JSON-string-escaped, so write it inside quotes: "variables": {"id": "__ID__"}
//   __SEQ__  a string unique to this request (run tag + counter), e.g. "name": "w2-__SEQ__"
// A body without placeholders is built once and sent as is.
//
// Output fields:
//   requests_per_s  completed responses (any status) / measured duration
//   p50_ms, p99_ms  latency of the 2xx responses (exact, from per-response timings with
//                   sub-ms precision; autocannon's own histogram only keeps whole ms)
//   errors          connection errors, timeouts included (timeouts also shown on their own)
//   non2xx          responses whose status is not 2xx
//   graphql_errors  responses whose JSON body has a top-level "errors" key. Every body is
//                   checked: a substring test for "errors", then JSON.parse to confirm when it hits.
//   null_data       of the parsed sample (every --parse-every-th 2xx body, JSON.parse'd), how many
//                   had a top-level field under "data" that is null or an empty list, i.e. a
//                   resolver that returned nothing without reporting an error
import autocannon from 'autocannon'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    body: { type: 'string' },
    'body-file': { type: 'string' },
    'ids-file': { type: 'string' },
    connections: { type: 'string', default: '16' },
    duration: { type: 'string', default: '15' },
    timeout: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '0' },
    'parse-every': { type: 'string', default: '10' },
    method: { type: 'string', default: 'POST' },
    header: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h' }
  }
})

function die (msg) {
  process.stderr.write(`run.mjs: ${msg}\n`)
  process.exit(2)
}

if (opt.help) {
  process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\nimport ')[0] + '\n')
  process.exit(0)
}
if (!opt.url) die('--url is required')
if ((opt.body === undefined) === (opt['body-file'] === undefined)) die('give exactly one of --body, --body-file')

const template = opt.body ?? readFileSync(opt['body-file'], 'utf8').trim()
try { JSON.parse(template.replaceAll('__ID__', 'x').replaceAll('__SEQ__', '0')) } catch (e) { die(`body is not JSON: ${e.message}`) }

const usesId = template.includes('__ID__')
const usesSeq = template.includes('__SEQ__')
let ids = null
if (usesId) {
  if (!opt['ids-file']) die('the body uses __ID__ but no --ids-file was given')
  const raw = readFileSync(opt['ids-file'], 'utf8').trim()
  ids = raw.startsWith('[') ? JSON.parse(raw) : raw.split(/\r?\n/).filter(Boolean)
  if (!ids.length) die(`no ids in ${opt['ids-file']}`)
  ids = ids.map((id) => JSON.stringify(String(id)).slice(1, -1)) // JSON-escaped, no quotes
}

const int = (name) => {
  const v = Number(opt[name])
  if (!Number.isFinite(v) || v < 0) die(`--${name} must be a number >= 0`)
  return v
}
const connections = int('connections')
const duration = int('duration')
const timeout = int('timeout')
const warmup = int('warmup')
const parseEvery = Math.max(1, Math.floor(int('parse-every')))

const headers = { 'content-type': 'application/json', accept: 'application/json' }
for (const h of opt.header) {
  const i = h.indexOf(':')
  if (i < 1) die(`bad --header ${h}`)
  headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim()
}

// Dynamic bodies: one template, two placeholders, split once so each request is a cheap join.
const runTag = `${Date.now().toString(36)}${process.pid.toString(36)}`
let seq = 0
const parts = template.split(/(__ID__|__SEQ__)/)
function fill () {
  let s = ''
  for (const p of parts) {
    if (p === '__ID__') s += ids[Math.floor(Math.random() * ids.length)]
    else if (p === '__SEQ__') s += `${runTag}-${seq++}`
    else s += p
  }
  return s
}

const counts = { checked: 0, graphqlErrors: 0, parsed: 0, nullData: 0, bodies2xx: 0 }
const errorSamples = []
function onResponse (status, body) {
  counts.checked++
  if (body.includes('"errors"')) {
    try {
      const j = JSON.parse(body)
      if (j && typeof j === 'object' && 'errors' in j) {
        counts.graphqlErrors++
        if (errorSamples.length < 3) errorSamples.push(JSON.stringify(j.errors).slice(0, 300))
      }
    } catch { /* not JSON: not a GraphQL error body */ }
  }
  if (status >= 200 && status < 300 && (counts.bodies2xx++ % parseEvery) === 0) {
    try {
      const j = JSON.parse(body)
      counts.parsed++
      if (j && j.data && typeof j.data === 'object') {
        for (const v of Object.values(j.data)) {
          if (v === null || (Array.isArray(v) && v.length === 0)) { counts.nullData++; break }
        }
      }
    } catch { /* counted as parsed=false */ }
  }
}

const request = { method: opt.method, headers, onResponse }
if (usesId || usesSeq) request.setupRequest = (req) => ({ ...req, body: fill() })
else request.body = template

function run (seconds, measure) {
  return new Promise((resolve, reject) => {
    const latencies = []
    const inst = autocannon({
      url: opt.url,
      connections,
      duration: seconds,
      timeout,
      requests: [request]
    }, (err, res) => (err ? reject(err) : resolve({ res, latencies })))
    if (measure) {
      inst.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime)
      })
    }
  })
}

function pct (sorted, p) {
  if (!sorted.length) return null
  // nearest-rank percentile
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return Math.round(sorted[rank - 1] * 100) / 100
}

if (warmup > 0) {
  await run(warmup, false)
  for (const k of Object.keys(counts)) counts[k] = 0
  errorSamples.length = 0
}
const { res, latencies } = await run(duration, true)
const lat = Float64Array.from(latencies).sort()
const total = res.requests.total // completed responses, any status
const out = {
  requests_per_s: Math.round((total / res.duration) * 100) / 100,
  p50_ms: pct(lat, 50),
  p99_ms: pct(lat, 99),
  mean_ms: lat.length ? Math.round((lat.reduce((a, b) => a + b, 0) / lat.length) * 100) / 100 : null,
  max_ms: lat.length ? Math.round(lat[lat.length - 1] * 100) / 100 : null,
  requests: total,
  duration_s: res.duration,
  connections,
  errors: res.errors,
  timeouts: res.timeouts,
  non2xx: res.non2xx,
  graphql_errors: counts.graphqlErrors,
  graphql_errors_checked: counts.checked,
  graphql_errors_method: 'every body: substring "errors", confirmed by JSON.parse',
  null_data: counts.nullData,
  null_data_parsed: counts.parsed,
  null_data_method: `every ${parseEvery}th 2xx body JSON.parse'd; data.<field> null or []`,
  status_codes: Object.fromEntries(Object.entries(res.statusCodeStats).map(([k, v]) => [k, v.count])),
  url: opt.url,
  warmup_s: warmup
}
if (errorSamples.length) out.graphql_error_samples = errorSamples
process.stdout.write(JSON.stringify(out) + '\n')
