// One measurement in a fresh Node process (so JIT state, heap and peak RSS of one run do not
// leak into the next). Usage: node bench/worker.mjs '<json spec>'. Prints one line
// `@@RESULT <json>` on stdout.
//
// Modes:
//   load    closed-loop load at a fixed concurrency for a fixed time (scenarios 1 and 3)
//   page    sequential large-page requests: time to JS objects and CPU per request (scenario 2)
//   export  read every record of the view once (scenarios 4 and 5)
//   shape   a 1,000-row page with getRecords `fields` / `shape` options against JSON.parse of
//           the full page text, both measured in this process (scenario 6)
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { CLIENTS } from './clients.mjs'
import { mainThreadCpuMs, median, percentile, processCpuMs, threadCount, vmHwmMiB } from './stats.mjs'

const spec = JSON.parse(process.argv[2])
const client = CLIENTS[spec.client](spec)

function done(result) {
  process.stdout.write('@@RESULT ' + JSON.stringify({ ok: true, ...result }) + '\n')
}

function op(spec) {
  if (spec.op === 'one') {
    const ids = spec.ids
    let i = 0
    return async () => {
      const r = await client.getOne(ids[i++ % ids.length])
      if (!r || typeof r.id !== 'string') throw new Error('getOne: no record')
    }
  }
  return async () => {
    const recs = await client.getPage(spec.rows, spec.format)
    if (!Array.isArray(recs) || recs.length !== spec.rows || typeof recs[recs.length - 1].id !== 'string') {
      throw new Error(`getPage: expected ${spec.rows} records, got ${recs && recs.length}`)
    }
  }
}

async function load() {
  const run = op(spec)
  const { concurrency, warmupMs, durationMs } = spec
  const eld = spec.eld ? monitorEventLoopDelay({ resolution: spec.eldResolutionMs ?? 1 }) : null
  // The callers run without pause from start to finish; the measured window is
  // [winStart, winEnd], taken when its two timers actually fire (late if the loop is blocked).
  // Throughput and latency count requests that *finish* inside the window.
  let winStart = Infinity
  let winEnd = Infinity
  let stop = false
  const lat = []
  let calls = 0
  let cpu0, main0, elu0, cpu1, main1, elu1
  setTimeout(() => {
    cpu0 = processCpuMs()
    main0 = mainThreadCpuMs()
    elu0 = performance.eventLoopUtilization()
    if (eld) eld.enable()
    winStart = performance.now()
    setTimeout(() => {
      winEnd = performance.now()
      cpu1 = processCpuMs()
      main1 = mainThreadCpuMs()
      elu1 = performance.eventLoopUtilization(elu0)
      stop = true
    }, durationMs)
  }, warmupMs)
  async function loop() {
    while (!stop) {
      const s = performance.now()
      await run()
      calls++
      const e = performance.now()
      if (e >= winStart && e <= winEnd) lat.push(e - s)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  // Let the delay monitor's timer fire once more, so a block that lasted to the end counts.
  await new Promise((r) => setTimeout(r, 5))
  if (eld) eld.disable()
  const completed = lat.length
  const window = winEnd - winStart
  done({
    calls,
    completed,
    windowMs: window,
    rps: (completed / window) * 1000,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    mainCpuPerReqMs: (main1 - main0) / Math.max(1, completed),
    cpuPerReqMs: (cpu1 - cpu0) / Math.max(1, completed),
    elu: elu1.utilization,
    eldP50: eld ? eld.percentile(50) / 1e6 : null,
    eldP99: eld ? eld.percentile(99) / 1e6 : null,
    eldMax: eld ? eld.max / 1e6 : null,
    eldCount: eld ? eld.count : null,
    threads: threadCount(),
    peakRssMiB: vmHwmMiB(),
  })
}

async function page() {
  const run = op(spec)
  for (let i = 0; i < spec.warmup; i++) await run()
  const calls = spec.warmup + spec.requests
  const walls = []
  const mains = []
  const cpus = []
  const elus = []
  for (let i = 0; i < spec.requests; i++) {
    const elu0 = performance.eventLoopUtilization()
    const c0 = processCpuMs()
    const m0 = mainThreadCpuMs()
    const t0 = performance.now()
    await run()
    const t1 = performance.now()
    mains.push(mainThreadCpuMs() - m0)
    cpus.push(processCpuMs() - c0)
    elus.push(performance.eventLoopUtilization(elu0).active)
    walls.push(t1 - t0)
  }
  done({
    calls,
    requests: spec.requests,
    wallMs: median(walls),
    wallP90: percentile(walls, 90),
    mainCpuMs: median(mains),
    mainCpuMeanMs: mains.reduce((a, b) => a + b, 0) / mains.length,
    cpuMs: median(cpus),
    cpuMeanMs: cpus.reduce((a, b) => a + b, 0) / cpus.length,
    eluActiveMs: median(elus),
    threads: threadCount(),
    peakRssMiB: vmHwmMiB(),
  })
}

async function exportAll() {
  let sampled = process.memoryUsage.rss()
  let heapPeak = 0
  const sampler = setInterval(() => {
    const m = process.memoryUsage()
    if (m.rss > sampled) sampled = m.rss
    if (m.heapTotal + m.external > heapPeak) heapPeak = m.heapTotal + m.external
  }, 20)
  const rss0 = vmHwmMiB()
  const c0 = processCpuMs()
  const m0 = mainThreadCpuMs()
  const t0 = performance.now()
  const r = await client.exportAll({ rows: spec.rows, format: spec.format })
  const wallMs = performance.now() - t0
  clearInterval(sampler)
  const mem = process.memoryUsage()
  if (spec.expect && r.count !== spec.expect) {
    throw new Error(`export read ${r.count} records, expected ${spec.expect}`)
  }
  done({
    ...r,
    wallMs,
    mainCpuMs: mainThreadCpuMs() - m0,
    cpuMs: processCpuMs() - c0,
    startRssMiB: rss0,
    peakRssMiB: vmHwmMiB(),
    sampledPeakRssMiB: sampled / 1048576,
    endHeapTotalMiB: mem.heapTotal / 1048576,
    peakHeapMiB: heapPeak / 1048576,
    endExternalMiB: mem.external / 1048576,
  })
}

/**
 * Scenario 6: main-thread CPU of knack-session's getRecords with `spec.extra` (e.g. `fields`
 * or `shape: 'labels'`) against `JSON.parse` of the full `format=both` page text, both in
 * this process, alternating. The options are checked first: when this build ignores or
 * rejects them, the result says "not available" instead of measuring something else.
 */
async function shape() {
  const q = `page=1&rows_per_page=${spec.rows}&format=both`
  const res = await fetch(`${spec.baseUrl}/pages/${spec.scene}/views/${spec.view}/records?${q}`, {
    headers: { 'X-Knack-Application-Id': spec.appId, Authorization: spec.token },
  })
  const fullText = await res.text()
  if (!res.ok) throw new Error(`full page: ${res.status} ${fullText.slice(0, 200)}`)
  const fullKeys = Object.keys(JSON.parse(fullText).records[0])
  let probe
  try {
    probe = await client.getPageWith(spec.rows, spec.extra)
  } catch (e) {
    return done({ calls: 1, available: false, reason: `not available in this build: getRecords(${JSON.stringify(spec.extra)}) threw ${e.code || e.name}: ${String(e.message).slice(0, 160)}`, fullKeys })
  }
  const keys = probe.length ? Object.keys(probe[0]) : []
  const why = unavailable(spec.check, keys, probe.length)
  if (why) return done({ calls: 2, available: false, reason: why, keys, fullKeys })
  const run = () => client.getPageWith(spec.rows, spec.extra)
  let keep = null
  const parse = () => {
    keep = JSON.parse(fullText)
    if (keep.records.length !== spec.rows) throw new Error('JSON.parse: wrong row count')
  }
  for (let i = 0; i < spec.warmup; i++) {
    await run()
    parse()
  }
  const mains = []
  const cpus = []
  const walls = []
  const parseMains = []
  const parseCpus = []
  for (let i = 0; i < spec.requests; i++) {
    keep = null
    const m0 = mainThreadCpuMs()
    const c0 = processCpuMs()
    const t0 = performance.now()
    const recs = await run()
    const t1 = performance.now()
    const m1 = mainThreadCpuMs()
    const c1 = processCpuMs()
    if (recs.length !== spec.rows) throw new Error(`expected ${spec.rows} records, got ${recs.length}`)
    const p0 = mainThreadCpuMs()
    const q0 = processCpuMs()
    parse()
    const q1 = processCpuMs()
    const p1 = mainThreadCpuMs()
    mains.push(m1 - m0)
    cpus.push(c1 - c0)
    walls.push(t1 - t0)
    parseMains.push(p1 - p0)
    parseCpus.push(q1 - q0)
  }
  done({
    available: true,
    keys,
    fullKeys,
    textBytes: Buffer.byteLength(fullText),
    calls: 2 + spec.warmup + spec.requests, // the full text, the probe, the rest
    requests: spec.requests,
    // Means, not medians: the kernel's per-thread counter (schedstat) only advances at a context
    // switch or a scheduler tick (4 ms here), so a single reading of a few ms of pure CPU is
    // 0 or 4 ms; the error averages out over many iterations, a median does not.
    mainCpuMs: mean(mains),
    parseMainMs: mean(parseMains),
    ratio: mean(mains) / mean(parseMains),
    // process.cpuUsage() (getrusage) is exact; nothing else runs in the process during the
    // synchronous parse apart from V8's GC helpers, so this checks parseMainMs.
    parseCpuMs: mean(parseCpus),
    cpuMs: mean(cpus),
    wallMs: median(walls),
  })
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length

/** Why the records do not look like the option took effect (null when they do). */
function unavailable(check, keys, n) {
  if (n !== spec.rows) return `expected ${spec.rows} records, got ${n}`
  if (check.only) {
    const extra = keys.filter((k) => !check.only.includes(k))
    if (extra.length) return `not available in this build: records still carry ${keys.length} keys (${extra.slice(0, 4).join(', ')}, ...), not only ${check.only.join(', ')}`
  }
  if (check.has) {
    const missing = check.has.filter((k) => !keys.includes(k))
    if (missing.length) return `not available in this build: records lack ${missing.join(', ')} (keys: ${keys.slice(0, 6).join(', ')}, ...)`
  }
  if (check.not) {
    const present = check.not.filter((k) => keys.includes(k))
    if (present.length) return `not available in this build: records still carry ${present.join(', ')}`
  }
  return null
}

const modes = { load, page, export: exportAll, shape }
modes[spec.mode]().then(
  () => process.exit(0),
  (e) => {
    process.stdout.write('@@RESULT ' + JSON.stringify({ ok: false, error: String((e && e.stack) || e) }) + '\n')
    process.exit(1)
  },
)
