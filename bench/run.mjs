// npm run bench: build the release addon and fake-knack, then run the five scenarios of
// bench/README.md against knack-session, fetch+JSON.parse and knack-api-helper, each
// measurement in a fresh child process, several rounds, medians and ratios.
// Writes bench/results.md, bench/results.json and bench/chart.svg.
//
// Flags: --no-build          skip the two cargo builds
//        --report-only       rewrite results.md and chart.svg from bench/results.json (e.g. after
//                            editing findings.md); no build, no measurement
//        --quick             1 round and shorter windows (a smoke run; numbers are rough)
//        --only=1,2,3,4,5    run only these scenarios
//        --rounds=N          rounds per scenario (default 3; scenario 2 uses N+2)
import { spawn, spawnSync, execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { APP_ID, FIXTURE_TICKETS, ROOT, startFake } from './fake.mjs'
import { CLIENT_NAMES } from './clients.mjs'
import { median } from './stats.mjs'
import { renderChart } from './chart.mjs'

const argv = process.argv.slice(2)
const flag = (name) => argv.includes(name)
const opt = (name, dflt) => {
  const a = argv.find((x) => x.startsWith(name + '='))
  return a ? a.slice(name.length + 1) : dflt
}
const QUICK = flag('--quick')
const ROUNDS = Number(opt('--rounds', QUICK ? 1 : 3))
const ONLY = new Set(opt('--only', '1,2,3,4,5').split(',').map(Number))
// Partial runs (--quick, --only) write to bench/out/ so they never replace the full results.
const PARTIAL = QUICK || argv.some((a) => a.startsWith('--only='))
const CLIENTS = ['ks', 'fetch', 'kah']
const PEERS = ['fetch', 'kah']
const SCENE = 'scene_2'
const VIEW = 'view_4' // "All tickets": every ticket, carol (agent) may read it
const BENCH = path.join(ROOT, 'bench')
// `napi build --platform --release` leaves its artifact here; the debug build (npm test) goes to
// .../debug and also overwrites the *.node in the repo root. The workers load a private copy of
// the release artifact (NAPI_RS_NATIVE_LIBRARY_PATH), so a concurrent `npm test` cannot swap a
// debug addon in under the benchmark.
const RELEASE_SO = path.join(ROOT, 'target/x86_64-unknown-linux-gnu/release/libknack_session.so')
const ADDON = path.join(BENCH, 'out/knack-session.release.node')
const t0 = Date.now()

function log(...a) {
  const s = ((Date.now() - t0) / 1000).toFixed(0).padStart(4)
  console.log(`[${s}s]`, ...a)
}

// ---------------------------------------------------------------------------- build
function build() {
  const steps = [
    ['release addon', 'node', ['scripts/build.mjs', '--release']],
    ['release fake-knack', 'cargo', ['build', '--release', '-p', 'fake-knack']],
  ]
  for (const [title, cmd, args] of steps) {
    const t = Date.now()
    log(`building ${title}: ${cmd} ${args.join(' ')}`)
    const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
    if (r.status !== 0) {
      console.error(`build of ${title} failed (exit ${r.status ?? r.signal})`)
      process.exit(1)
    }
    log(`built ${title} in ${((Date.now() - t) / 1000).toFixed(1)}s`)
  }
}

function stageAddon() {
  if (!existsSync(RELEASE_SO)) {
    console.error(`${RELEASE_SO} is missing: run without --no-build`)
    process.exit(1)
  }
  mkdirSync(path.dirname(ADDON), { recursive: true })
  copyFileSync(RELEASE_SO, ADDON)
  const st = statSync(ADDON)
  log(`addon: ${path.relative(ROOT, RELEASE_SO)} (${(st.size / 2 ** 20).toFixed(1)} MiB, built ${st.mtime.toISOString()}) -> ${path.relative(ROOT, ADDON)}`)
  return { builtAt: statSync(RELEASE_SO).mtime.toISOString(), sizeMiB: +(st.size / 2 ** 20).toFixed(1), sha256: sha(ADDON) }
}

// ---------------------------------------------------------------------------- machine
function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return 'unknown'
  }
}
function sha(file) {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12)
  } catch {
    return 'unknown'
  }
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const model = (/model name\s*:\s*(.*)/.exec(cpuinfo) || [])[1] || 'unknown'
  const mhz = (/cpu MHz\s*:\s*(.*)/.exec(cpuinfo) || [])[1] || '?'
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/knack-api-helper/package.json'), 'utf8'))
  return {
    date: new Date().toISOString(),
    nproc: sh('nproc', []),
    cpu: `${model} @ ${Number(mhz).toFixed(0)} MHz`,
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    node: process.version,
    rustc: sh('rustc', ['-V']),
    knackApiHelper: pkg.version,
    loadAvgAtStart: os.loadavg().map((x) => +x.toFixed(2)),
    gitHead: sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    gitDirtyFiles: sh('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'crates', 'lib', 'index.js', 'binding.js'])
      .split('\n').filter((l) => l.trim() && l !== 'unknown').map((l) => l.trim().replace(/^\S+\s+/, '')),
    libSessionSha: sha(path.join(ROOT, 'lib/session.js')),
  }
}

// ---------------------------------------------------------------------------- workers
function runWorker(spec, timeoutMs = 180_000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(BENCH, 'worker.mjs'), JSON.stringify(spec)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: ADDON },
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      const line = out.split('\n').find((l) => l.startsWith('@@RESULT '))
      if (line) {
        const r = JSON.parse(line.slice(9))
        if (!r.ok) r.error = (r.error || '') + (err ? `\nstderr: ${err.slice(-2000)}` : '')
        return resolve(r)
      }
      resolve({ ok: false, error: `worker exited ${code ?? signal} without a result. stderr: ${err.slice(-2000)}` })
    })
  })
}

/** Rotate the client order each round so no client always runs first. */
function order(round) {
  return CLIENTS.map((_, i) => CLIENTS[(i + round) % CLIENTS.length])
}

const RAW = []

let currentFake = null

async function measure(label, specFor, rounds, clients = CLIENTS) {
  const runs = Object.fromEntries(clients.map((c) => [c, []]))
  for (let r = 0; r < rounds; r++) {
    for (const c of order(r).filter((x) => clients.includes(x))) {
      const before = currentFake ? await currentFake.stats() : null
      const res = await runWorker(specFor(c, r))
      if (before) {
        // Integrity check: every call the client made must have reached the server.
        res.serverRequests = (await currentFake.stats()).requests - before.requests
        if (res.ok && res.calls != null && res.serverRequests !== res.calls) {
          log(`  ! ${label} ${c} round ${r + 1}: client made ${res.calls} calls, server saw ${res.serverRequests}`)
        }
      }
      if (!res.ok) log(`  ! ${label} ${c} round ${r + 1}: ${res.error.split('\n')[0]}`)
      RAW.push({ label, client: c, round: r + 1, ...res })
      runs[c].push(res)
    }
  }
  return runs
}

/** Medians over the successful rounds, for the given metrics. */
function med(runs, keys) {
  const ok = runs.filter((r) => r.ok)
  const out = { rounds: runs.length, okRounds: ok.length }
  if (ok.length === 0) out.error = (runs[0] && runs[0].error) || 'no result'
  for (const k of keys) out[k] = ok.length ? median(ok.map((r) => r[k])) : null
  return out
}

const ratio = (a, b) => (a != null && b != null && b !== 0 ? a / b : null)

// ---------------------------------------------------------------------------- formatting
const f = (v, d = 1) => (v == null ? 'n/a' : Number(v).toFixed(d))
const fr = (v) => (v == null ? 'n/a' : `${Number(v).toFixed(2)}x`)
function table(headers, rows) {
  const lines = ['| ' + headers.join(' | ') + ' |', '|' + headers.map(() => '---').join('|') + '|']
  for (const r of rows) lines.push('| ' + r.join(' | ') + ' |')
  return lines.join('\n')
}

// ---------------------------------------------------------------------------- main
async function main() {
  if (flag('--report-only')) {
    const results = JSON.parse(readFileSync(path.join(BENCH, 'results.json'), 'utf8'))
    writeFileSync(path.join(BENCH, 'results.md'), report(results))
    writeFileSync(path.join(BENCH, 'chart.svg'), renderChart(results))
    log('rewrote bench/results.md and bench/chart.svg from bench/results.json')
    return
  }
  if (!flag('--no-build')) build()
  const m = machine()
  m.addon = stageAddon()
  if (m.loadAvgAtStart[0] > 1) log(`warning: load average ${m.loadAvgAtStart[0]} before starting; other work on this machine will skew the numbers`)
  log(`machine: ${m.nproc} cpus, ${m.cpu}, node ${m.node}, ${m.rustc}`)
  const results = { machine: m, quick: QUICK, rounds: ROUNDS, scenarios: {} }
  const S = results.scenarios
  const warmupMs = QUICK ? 200 : 300
  const durationMs = QUICK ? 700 : 1500

  // ---- scenarios 1-3: one server, no rate limit, 2,000 extra tickets (enough for 1,000-row pages)
  if (ONLY.has(1) || ONLY.has(2) || ONLY.has(3)) {
    const fake = await startFake({ rateLimit: 'off', seedTickets: 2000 })
    currentFake = fake
    const token = await fake.login('carol@example.com', 'carol-pass-1')
    const res = await fetch(`${fake.baseUrl}/pages/${SCENE}/views/${VIEW}/records?rows_per_page=64`, {
      headers: { 'X-Knack-Application-Id': APP_ID, Authorization: token },
    })
    const ids = (await res.json()).records.map((r) => r.id)
    const base = { baseUrl: fake.baseUrl, appId: APP_ID, token, scene: SCENE, view: VIEW, rateLimit: false }
    const serverCpu0 = serverCpuMs(fake.pid)

    if (ONLY.has(1)) {
      log('scenario 1: single-record GET and 25-row page, concurrency 1/16/64')
      S.s1 = { settings: { warmupMs, durationMs, rounds: ROUNDS, server: fake.args.join(' '), ks: 'rateLimit: false' }, cases: [] }
      for (const [opName, opSpec] of [
        ['single record', { op: 'one', ids }],
        ['25-row page', { op: 'page', rows: 25 }],
      ]) {
        for (const concurrency of [1, 16, 64]) {
          const runs = await measure(`s1 ${opName} c${concurrency}`, (client) => ({
            ...base, ...opSpec, client, mode: 'load', concurrency, warmupMs, durationMs,
          }), ROUNDS)
          const row = { op: opName, concurrency, clients: {} }
          for (const c of CLIENTS) row.clients[c] = med(runs[c], ['rps', 'p50', 'p99', 'mainCpuPerReqMs', 'cpuPerReqMs'])
          S.s1.cases.push(row)
          log(`  ${opName} c=${concurrency}: ` + CLIENTS.map((c) => `${c} ${f(row.clients[c].rps, 0)} rps p99 ${f(row.clients[c].p99, 2)}ms`).join(', '))
        }
      }
    }

    if (ONLY.has(2)) {
      log('scenario 2: 1,000-row page (format=both), sequential')
      const requests = QUICK ? 10 : 30
      const rounds = ROUNDS + (QUICK ? 0 : 2)
      const runs = await measure('s2', (client) => ({
        ...base, client, mode: 'page', op: 'page', rows: 1000, format: 'both', warmup: 5, requests,
      }), rounds)
      S.s2 = { settings: { requestsPerRound: requests, warmup: 5, rounds, ks: 'rateLimit: false' }, clients: {} }
      for (const c of CLIENTS) S.s2.clients[c] = med(runs[c], ['wallMs', 'mainCpuMs', 'mainCpuMeanMs', 'cpuMs', 'cpuMeanMs', 'eluActiveMs'])
      log('  ' + CLIENTS.map((c) => `${c} ${f(S.s2.clients[c].wallMs, 2)}ms wall, main ${f(S.s2.clients[c].mainCpuMs, 2)}ms, total ${f(S.s2.clients[c].cpuMs, 2)}ms`).join('; '))
    }

    if (ONLY.has(3)) {
      log('scenario 3: event-loop delay with 64 requests in flight')
      const s3Cases = [
        ['25-row page', 25, warmupMs, durationMs + 500],
        ['1,000-row page', 1000, QUICK ? 300 : 500, QUICK ? 1500 : 3000],
      ]
      S.s3 = { settings: { concurrency: 64, rounds: ROUNDS, eldResolutionMs: 1, ks: 'rateLimit: false', windows: s3Cases.map(([op, , w, d]) => `${op}: ${w} ms warm-up, ${d} ms measured`) }, cases: [] }
      for (const [opName, rows, wMs, dMs] of s3Cases) {
        const runs = await measure(`s3 ${opName}`, (client) => ({
          ...base, client, mode: 'load', op: 'page', rows, format: rows === 1000 ? 'both' : undefined,
          concurrency: 64, warmupMs: wMs, durationMs: dMs, eld: true, eldResolutionMs: 1,
        }), ROUNDS)
        const row = { op: opName, clients: {} }
        for (const c of CLIENTS) row.clients[c] = med(runs[c], ['eldP50', 'eldP99', 'eldMax', 'eldCount', 'rps', 'p99', 'elu', 'mainCpuPerReqMs', 'cpuPerReqMs'])
        S.s3.cases.push(row)
        log(`  ${opName}: ` + CLIENTS.map((c) => `${c} eld p99 ${f(row.clients[c].eldP99, 2)}ms`).join(', '))
      }
    }
    results.serverCpuMsPhase1 = serverCpuMs(fake.pid) - serverCpu0
    currentFake = null
    await fake.stop()
  }

  // ---- scenario 4: export 10k and 100k records, no rate limit
  if (ONLY.has(4)) {
    log('scenario 4: export (no rate limit)')
    S.s4 = { settings: { rowsPerPage: 1000, format: 'both', rounds: ROUNDS, ks: 'rateLimit: false, prefetchPages: 8 (default)' }, sizes: {} }
    for (const n of QUICK ? [10_000, 100_000] : [10_000, 100_000, 300_000]) {
      const fake = await startFake({ rateLimit: 'off', seedTickets: n - FIXTURE_TICKETS })
      const token = await fake.login('carol@example.com', 'carol-pass-1')
      const base = { baseUrl: fake.baseUrl, appId: APP_ID, token, scene: SCENE, view: VIEW, rateLimit: false }
      // 10k and 300k: knack-session only (is its memory flat in the record count?); 100k: everyone.
      const clients = n === 100_000 ? CLIENTS : ['ks']
      const runs = await measure(`s4 ${n}`, (client) => ({
        ...base, client, mode: 'export', rows: 1000, format: 'both', expect: n,
      }), ROUNDS, clients)
      S.s4.sizes[n] = {}
      for (const c of clients) S.s4.sizes[n][c] = med(runs[c], ['wallMs', 'peakRssMiB', 'sampledPeakRssMiB', 'startRssMiB', 'peakHeapMiB', 'endHeapTotalMiB', 'endExternalMiB', 'mainCpuMs', 'cpuMs', 'clientRequests'])
      log(`  ${n}: ` + clients.map((c) => `${c} ${f(S.s4.sizes[n][c].wallMs / 1000, 2)}s peak ${f(S.s4.sizes[n][c].peakRssMiB, 0)}MiB`).join(', '))
      await fake.stop()
    }
  }

  // ---- scenario 5: export 100k at Knack's 10 requests/second
  if (ONLY.has(5)) {
    log('scenario 5: export of 100,000 records at --rate-limit 10')
    const n = 100_000
    const fake = await startFake({ rateLimit: 10, seedTickets: n - FIXTURE_TICKETS })
    const token = await fake.login('carol@example.com', 'carol-pass-1')
    const base = { baseUrl: fake.baseUrl, appId: APP_ID, token, scene: SCENE, view: VIEW }
    const pages = n / 1000
    const rounds = QUICK ? 1 : ROUNDS
    S.s5 = {
      settings: {
        server: fake.args.join(' '), rowsPerPage: 1000, format: 'both', rounds, pages, boundS: pages / 10,
        ks: 'default rateLimit (governor 10/s), prefetchPages 8',
        fetch: 'sequential loop; on 429 sleep 1 s and retry',
        kah: 'getMany (sequential; its own retry: 1-2-4-8-16 s backoff on 429)',
      },
      clients: {},
    }
    const runs = Object.fromEntries(CLIENTS.map((c) => [c, []]))
    for (let r = 0; r < rounds; r++) {
      for (const c of order(r)) {
        await fake.reset() // clears counters and rate windows (data is re-seeded)
        await new Promise((res) => setTimeout(res, 1100))
        const before = await fake.stats()
        const res = await runWorker({ ...base, client: c, mode: 'export', rows: 1000, format: 'both', expect: n, retry429: true }, 300_000)
        const after = await fake.stats()
        if (!res.ok) log(`  ! s5 ${c} round ${r + 1}: ${res.error.split('\n')[0]}`)
        res.rateLimited = after.rate_limited - before.rate_limited
        res.serverRequests = after.requests - before.requests
        res.maxInAnySecond = after.max_in_any_second
        RAW.push({ label: 's5', client: c, round: r + 1, ...res })
        runs[c].push(res)
      }
    }
    for (const c of CLIENTS) {
      S.s5.clients[c] = med(runs[c], ['wallMs', 'rateLimited', 'serverRequests', 'maxInAnySecond', 'peakRssMiB'])
      S.s5.clients[c].rateLimitedAll = runs[c].map((r) => r.rateLimited)
    }
    log('  ' + CLIENTS.map((c) => `${c} ${f(S.s5.clients[c].wallMs / 1000, 2)}s, 429s ${S.s5.clients[c].rateLimitedAll.join('/')}`).join('; '))
    await fake.stop()
  }

  results.totalSeconds = (Date.now() - t0) / 1000
  results.machine.loadAvgAtEnd = os.loadavg().map((x) => +x.toFixed(2))
  results.raw = RAW
  const outDir = PARTIAL ? path.join(BENCH, 'out') : BENCH
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n')
  const md = report(results)
  writeFileSync(path.join(outDir, 'results.md'), md)
  writeFileSync(path.join(outDir, 'chart.svg'), renderChart(results))
  console.log('\n' + md.split('\n## Findings')[0])
  const rel = path.relative(ROOT, outDir)
  log(`wrote ${rel}/results.md, ${rel}/results.json, ${rel}/chart.svg (total ${results.totalSeconds.toFixed(0)}s)`)
}

function serverCpuMs(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const rest = st.slice(st.lastIndexOf(')') + 2).split(' ')
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100
  } catch {
    return 0
  }
}

// ---------------------------------------------------------------------------- report
function verdict(ok) {
  return ok == null ? 'n/a' : ok ? '**PASS**' : '**FAIL**'
}

export function report(results) {
  const { machine: m, scenarios: S } = results
  const out = []
  out.push('# knack-session benchmarks')
  out.push('')
  out.push('Generated by `npm run bench` (`node bench/run.mjs`); see bench/README.md for what each scenario measures.')
  out.push('All numbers are medians over rounds; each round of each client is a fresh Node process.')
  out.push('Ratios are knack-session / peer from this same run. Server: the release `fake-knack` on the same machine (it competes for the same CPUs).')
  if (results.quick) out.push('\n> **Quick run** (`--quick`): 1 round, short windows. Numbers are rough.')
  out.push('')
  out.push(table(['machine', ''], [
    ['date', m.date],
    ['nproc', m.nproc],
    ['CPU', m.cpu],
    ['memory', `${m.memGiB} GiB`],
    ['kernel', m.kernel],
    ['Node', m.node],
    ['rustc', m.rustc],
    ['knack-api-helper', m.knackApiHelper],
    ['knack-session', `git ${m.gitHead}${m.gitDirtyFiles && m.gitDirtyFiles.length ? ` + uncommitted: ${m.gitDirtyFiles.join(', ')}` : ' (clean)'}; release addon built ${m.addon ? m.addon.builtAt : '?'} (${m.addon ? m.addon.sizeMiB : '?'} MiB, sha256 ${m.addon ? m.addon.sha256 : '?'}); lib/session.js sha256 ${m.libSessionSha}`],
    ['load average (1/5/15 min)', `${(m.loadAvgAtStart || []).join(' / ')} at start, ${(m.loadAvgAtEnd || []).join(' / ')} at end (the bench itself keeps ~1-2 busy)`],
    ['total bench time', `${results.totalSeconds.toFixed(0)} s (including build check)`],
  ]))
  out.push('')
  out.push('Clients: **knack-session** (`KnackSession.fromToken`), **fetch** (Node built-in fetch/undici, headers `X-Knack-Application-Id` + `Authorization`, `res.text()` + `JSON.parse`), **knack-api-helper** (npm, view-based auth, `urlBase` set to fake-knack, `userToken`).')
  out.push('')

  const targets = []

  if (S.s1) {
    out.push('## 1. Single-record GET and 25-row page: throughput and latency')
    out.push('')
    out.push(`Closed loop: N concurrent callers, each awaiting one request then starting the next; ${S.s1.settings.warmupMs} ms warm-up then ${S.s1.settings.durationMs} ms measured; ${S.s1.settings.rounds} rounds. fake-knack \`--rate-limit off --daily-limit off --seed-tickets 2000\`; knack-session \`rateLimit: false\`. GET \`scene_2/view_4\` as carol (agent); the page request is page 1, \`rows_per_page=25\`, no \`format\` (Knack default: both).`)
    out.push('')
    const rows = []
    for (const cs of S.s1.cases) {
      const k = cs.clients.ks
      for (const c of CLIENTS) {
        const v = cs.clients[c]
        rows.push([
          cs.op, cs.concurrency, CLIENT_NAMES[c],
          v.error ? `failed: ${v.error.split('\n')[0].slice(0, 80)}` : f(v.rps, 0),
          f(v.p50, 2), f(v.p99, 2), f(v.mainCpuPerReqMs * 1000, 0), f(v.cpuPerReqMs * 1000, 0),
          c === 'ks' ? '' : `${fr(ratio(k.rps, v.rps))} / ${fr(ratio(k.p99, v.p99))}`,
        ])
      }
    }
    out.push(table(['request', 'conc.', 'client', 'req/s', 'p50 ms', 'p99 ms', 'main-thread CPU µs/req', 'process CPU µs/req', 'ks/peer: req/s / p99'], rows))
    out.push('')
    const c64 = S.s1.cases.find((x) => x.op === '25-row page' && x.concurrency === 64)
    if (c64) {
      const r = ratio(c64.clients.ks.rps, c64.clients.fetch.rps)
      targets.push(['concurrency 64, 25-row pages: knack-session throughput >= 1.2x fetch', `${fr(r)} (${f(c64.clients.ks.rps, 0)} vs ${f(c64.clients.fetch.rps, 0)} req/s)`, verdict(r == null ? null : r >= 1.2)])
    }
  }

  if (S.s2) {
    out.push('## 2. A 1,000-row page (format=both, ~0.9 MB): time to JS objects and CPU per request')
    out.push('')
    out.push(`Sequential requests (concurrency 1) for page 1 with \`rows_per_page=1000&format=both\`; ${S.s2.settings.warmup} warm-up requests then ${S.s2.settings.requestsPerRound} measured per round, ${S.s2.settings.rounds} rounds. *Wall* = call start until the array of record objects is in hand. *Main-thread CPU* = CPU time of the JS thread (from \`/proc/self/task/<pid>/schedstat\`, ns resolution), so it includes HTTP handling on that thread, string decoding, \`JSON.parse\` and GC work done there. *Process CPU* = \`process.cpuUsage()\` (all threads: JS, V8 GC helpers, tokio workers). ELU active = \`performance.eventLoopUtilization()\` active time. knack-session \`rateLimit: false\`.`)
    out.push('')
    const k = S.s2.clients.ks
    const rows = CLIENTS.map((c) => {
      const v = S.s2.clients[c]
      return [CLIENT_NAMES[c], f(v.wallMs, 2), f(v.mainCpuMs, 2), f(v.cpuMs, 2), f(v.eluActiveMs, 2),
        c === 'ks' ? '' : `${fr(ratio(k.wallMs, v.wallMs))} / ${fr(ratio(k.mainCpuMs, v.mainCpuMs))} / ${fr(ratio(k.cpuMs, v.cpuMs))}`]
    })
    out.push(table(['client', 'wall ms', 'main-thread CPU ms', 'process CPU ms', 'ELU active ms', 'ks/peer: wall / main CPU / process CPU'], rows))
    out.push('')
    const r = ratio(k.mainCpuMs, S.s2.clients.fetch.mainCpuMs)
    targets.push(['main-thread CPU per 1,000-row page <= fetch + JSON.parse', `${f(k.mainCpuMs, 2)} ms vs ${f(S.s2.clients.fetch.mainCpuMs, 2)} ms (${fr(r)})`, verdict(r == null ? null : r <= 1)])
  }

  if (S.s3) {
    out.push('## 3. Event-loop delay with 64 requests in flight')
    out.push('')
    out.push(`\`perf_hooks.monitorEventLoopDelay({ resolution: 1 })\` enabled for the measured window while 64 callers keep a request in flight (closed loop; ${S.s3.settings.windows.join('; ')}), ${S.s3.settings.rounds} rounds. The histogram only gets a sample when its 1 ms timer fires, so *samples* shows how often the loop got round to it. knack-session \`rateLimit: false\`.`)
    out.push('')
    const rows = []
    for (const cs of S.s3.cases) {
      const k = cs.clients.ks
      for (const c of CLIENTS) {
        const v = cs.clients[c]
        rows.push([cs.op, CLIENT_NAMES[c], f(v.eldP50, 2), f(v.eldP99, 2), f(v.eldMax, 2), f(v.eldCount, 0), f(v.rps, 0), f(v.elu, 2), f(v.mainCpuPerReqMs, 2),
          c === 'ks' ? '' : fr(ratio(k.eldP99, v.eldP99))])
      }
      const r = ratio(k.eldP99, cs.clients.fetch.eldP99)
      targets.push([`event-loop delay p99 below fetch's (${cs.op}, 64 in flight)`, `${f(k.eldP99, 2)} ms vs ${f(cs.clients.fetch.eldP99, 2)} ms (${fr(r)})`, verdict(r == null ? null : r < 1)])
    }
    out.push(table(['request', 'client', 'delay p50 ms', 'delay p99 ms', 'delay max ms', 'samples', 'req/s', 'ELU', 'main-thread CPU ms/req', 'ks/peer p99'], rows))
    out.push('')
  }

  if (S.s4) {
    out.push('## 4. Exporting every record (no rate limit)')
    out.push('')
    out.push('View `scene_2/view_4` holding exactly N tickets (fixture + `--seed-tickets N-5`), `rows_per_page=1000`, `format=both` (~0.9 MB per page). Each run is a fresh process; *peak RSS* is the kernel high-water mark `VmHWM` at the end of the run (a 20 ms `process.memoryUsage()` sampler agrees within a few MiB and also gives the peak of V8 heap + external memory). knack-session: `for await (const r of session.records(...))` with `rateLimit: false` and the default `prefetchPages: 8`, records counted and dropped (10k and 300k are run for knack-session only, to see whether its memory grows with N). fetch: a sequential page loop, records counted and dropped. knack-api-helper: `getMany` (sequential; by design it returns every record and keeps every page\'s response, text and parsed JSON).')
    out.push('')
    const big = S.s4.sizes[100000] || {}
    const k = big.ks || {}
    const rows = []
    for (const n of Object.keys(S.s4.sizes)) {
      for (const c of Object.keys(S.s4.sizes[n])) {
        const v = S.s4.sizes[n][c]
        rows.push([Number(n).toLocaleString('en-US'), CLIENT_NAMES[c], v.error ? `failed: ${v.error.split('\n')[0].slice(0, 80)}` : f(v.wallMs / 1000, 2), f(v.peakRssMiB, 0), f(v.startRssMiB, 0), f(v.peakHeapMiB, 0), f(v.mainCpuMs / 1000, 2), f(v.cpuMs / 1000, 2),
          n === '100000' && c !== 'ks' ? `${fr(ratio(k.wallMs, v.wallMs))} / ${fr(ratio(k.peakRssMiB, v.peakRssMiB))}` : ''])
      }
    }
    out.push(table(['records', 'client', 'wall s', 'peak RSS MiB', 'RSS at start MiB', 'JS heap + external peak MiB', 'main-thread CPU s', 'process CPU s', 'ks/peer: wall / peak RSS'], rows))
    out.push('')
    const small = S.s4.sizes[10000] && S.s4.sizes[10000].ks
    if (small && k) {
      const r = ratio(k.peakRssMiB, small.peakRssMiB)
      const huge = S.s4.sizes[300000] && S.s4.sizes[300000].ks
      const extra = huge ? `; 300k: ${f(huge.peakRssMiB, 0)} MiB (${fr(ratio(huge.peakRssMiB, small.peakRssMiB))} of 10k)` : ''
      targets.push(['export memory flat: knack-session peak RSS 100k <= 1.5x 10k', `${f(k.peakRssMiB, 0)} MiB vs ${f(small.peakRssMiB, 0)} MiB (${fr(r)})${extra}`, verdict(r == null ? null : r <= 1.5)])
    }
  }

  if (S.s5) {
    const st = S.s5.settings
    out.push("## 5. Exporting 100,000 records at Knack's 10 requests/second")
    out.push('')
    out.push(`fake-knack \`${st.server.replace(/^--fixture \S+ /, '')}\` (fixed one-second windows), \`rows_per_page=1000\` for everyone, ${st.pages} pages, so the theoretical bound is ${st.pages} / 10 per s = **${st.boundS} s**. 429 counts are fake-knack's \`rate_limited\` counter (\`GET /_fake/stats\`) for that run; the server is reset (counters and windows) and idle for 1.1 s before each run. Settings: knack-session ${st.ks}; fetch ${st.fetch}; knack-api-helper ${st.kah}. ${st.rounds} rounds.`)
    out.push('')
    const k = S.s5.clients.ks
    const rows = CLIENTS.map((c) => {
      const v = S.s5.clients[c]
      return [CLIENT_NAMES[c], v.error ? `failed: ${v.error.split('\n')[0].slice(0, 80)}` : f(v.wallMs / 1000, 2), fr(ratio(v.wallMs / 1000, st.boundS)), v.rateLimitedAll.join(' / '), f(v.serverRequests, 0), f(v.maxInAnySecond, 0), f(v.peakRssMiB, 0),
        c === 'ks' ? '' : fr(ratio(k.wallMs, v.wallMs))]
    })
    out.push(table(['client', 'wall s', 'wall / bound', '429s per round', 'requests sent', 'max in any 1 s', 'peak RSS MiB', 'ks/peer wall'], rows))
    out.push('')
    const within = k.wallMs != null ? k.wallMs / 1000 <= st.boundS * 1.1 : null
    const zero = k.rateLimitedAll && k.rateLimitedAll.every((x) => x === 0)
    targets.push(['rate-limited export: knack-session within 10% of the bound', `${f(k.wallMs / 1000, 2)} s vs ${st.boundS} s (${fr(ratio(k.wallMs / 1000, st.boundS))})`, verdict(within)])
    targets.push(['rate-limited export: knack-session zero 429s', `${k.rateLimitedAll.join(' / ')}`, verdict(zero)])
  }

  out.push('## Targets')
  out.push('')
  out.push(table(['target', 'measured', 'verdict'], targets))
  out.push('')
  out.push('![chart](chart.svg)')
  out.push('')
  const findings = path.join(BENCH, 'findings.md')
  if (existsSync(findings)) out.push(readFileSync(findings, 'utf8').trimEnd())
  out.push('')
  return out.join('\n')
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(BENCH, 'run.mjs')) {
  main().catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
