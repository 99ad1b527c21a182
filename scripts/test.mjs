// npm test: every test. Rust first (fmt check, clippy, cargo test), then the addon build,
// the check that the committed generated binding matches the Rust source, types, and the
// node:test suites.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { readdirSync } from 'node:fs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const quick = process.argv.includes('--quick')

function run(title, cmd, args, opts = {}) {
  console.log(`\n=== ${title}: ${cmd} ${args.join(' ')}`)
  const t = Date.now()
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
  const secs = ((Date.now() - t) / 1000).toFixed(1)
  if (r.status !== 0) {
    console.error(`\n✗ ${title} failed (exit ${r.status ?? r.signal}) after ${secs}s`)
    process.exit(1)
  }
  console.log(`✓ ${title} (${secs}s)`)
}

if (!quick) {
  run('rustfmt', 'cargo', ['fmt', '--all', '--check'])
  run('clippy', 'cargo', ['clippy', '--workspace', '--all-targets', '--', '-D', 'warnings'])
}
run('cargo tests', 'cargo', ['test', '--workspace'])
run('fake-knack binary', 'cargo', ['build', '-p', 'fake-knack'])
run('addon (debug)', 'node', ['scripts/build.mjs'])
if (!quick) {
  run('generated binding is committed and current', 'git', ['diff', '--exit-code', '--', 'binding.js', 'binding.d.ts'])
}
run('types (tsc --strict)', 'npx', ['tsc', '-p', '__test__/tsconfig.json'])
// Suites that measure rates and latencies run one at a time after the rest, so that no other
// suite's load (a token flood, four worker processes) skews what they measure.
const TIMED = ['cluster.test.mjs', 'governor.test.mjs', 'token-flood.test.mjs']
const suites = readdirSync(path.join(root, '__test__')).filter((f) => f.endsWith('.test.mjs')).sort()
const rest = suites.filter((f) => !TIMED.includes(f)).map((f) => `__test__/${f}`)
run('node:test suites', 'node', ['--test', '--test-concurrency=2', ...rest])
run('node:test timed suites (one at a time)', 'node', ['--test', '--test-concurrency=1', ...TIMED.map((f) => `__test__/${f}`)])
console.log('\nall tests passed')
