// Small numeric helpers shared by the runner and the workers.
import { readFileSync } from 'node:fs'

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const m = v.length >> 1
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(xs, p) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const i = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))
  return v[i]
}

/** CPU time (ms) the main JS thread has spent, from /proc (ns resolution via schedstat). */
export function mainThreadCpuMs() {
  try {
    const s = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8')
    return Number(s.split(' ')[0]) / 1e6
  } catch {
    // Fallback: clock ticks of the main thread.
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100
  }
}

/** CPU time (ms) of the whole process: all threads (JS, V8 GC helpers, libuv, tokio). */
export function processCpuMs() {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Peak resident set size of this process so far (MiB), from the kernel's high-water mark. */
export function vmHwmMiB() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) / 1024 : null
}

export function threadCount() {
  const m = /Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) : null
}
