// One measurement in a fresh Node process (so JIT state, heap and peak RSS of one run do not
// leak into the next). Usage: node bench/worker.mjs '<json spec>'. Prints one line
// `@@RESULT <json>` on stdout.
//
// Modes:
//   load    closed-loop load at a fixed concurrency for a fixed time (scenarios 1 and 3)
//   page    sequential large-page requests: time to JS objects and CPU per request (scenario 2)
//   export  read every record of the view once (scenarios 4 and 5)
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
  const t0 = performance.now()
  const mStart = t0 + warmupMs
  const mEnd = mStart + durationMs
  const lat = []
  let completed = 0
  let started = false
  let cpu0, main0, elu0
  const begin = () => {
    if (started) return
    started = true
    cpu0 = processCpuMs()
    main0 = mainThreadCpuMs()
    elu0 = performance.eventLoopUtilization()
    if (eld) eld.enable()
  }
  const timer = setTimeout(begin, warmupMs)
  async function loop() {
    for (;;) {
      const s = performance.now()
      if (s >= mEnd) return
      await run()
      const e = performance.now()
      if (s >= mStart && e <= mEnd) {
        completed++
        lat.push(e - s)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  clearTimeout(timer)
  begin()
  const tEnd = performance.now()
  if (eld) eld.disable()
  const elu = performance.eventLoopUtilization(elu0)
  const cpu = processCpuMs() - cpu0
  const main = mainThreadCpuMs() - main0
  // Throughput counts only requests that both started and finished inside the window.
  const window = Math.min(tEnd, mEnd) - mStart
  done({
    completed,
    windowMs: window,
    rps: (completed / window) * 1000,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    mainCpuPerReqMs: main / Math.max(1, completed),
    cpuPerReqMs: cpu / Math.max(1, completed),
    elu: elu.utilization,
    eldP50: eld ? eld.percentile(50) / 1e6 : null,
    eldP99: eld ? eld.percentile(99) / 1e6 : null,
    eldMax: eld ? eld.max / 1e6 : null,
    threads: threadCount(),
    peakRssMiB: vmHwmMiB(),
  })
}

async function page() {
  const run = op(spec)
  for (let i = 0; i < spec.warmup; i++) await run()
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
  const sampler = setInterval(() => {
    const r = process.memoryUsage.rss()
    if (r > sampled) sampled = r
  }, 20)
  const rss0 = vmHwmMiB()
  const c0 = processCpuMs()
  const m0 = mainThreadCpuMs()
  const t0 = performance.now()
  const r = await client.exportAll({ rows: spec.rows, format: spec.format })
  const wallMs = performance.now() - t0
  clearInterval(sampler)
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
  })
}

const modes = { load, page, export: exportAll }
modes[spec.mode]().then(
  () => process.exit(0),
  (e) => {
    process.stdout.write('@@RESULT ' + JSON.stringify({ ok: false, error: String((e && e.stack) || e) }) + '\n')
    process.exit(1)
  },
)
