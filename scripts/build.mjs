// Build the native addon: the one command behind `npm install` in a checkout (the `prepare`
// script), `npm run build`, `npm test`, the demo, the cross matrix and the release workflow.
//
//   node scripts/build.mjs [--release] [--target <rust triple>] [--output-dir <dir>]
//
// It writes `knack-session.<platform>.node` (napi's naming, e.g. linux-x64-gnu) into the
// repository root, or into --output-dir, and regenerates binding.js / binding.d.ts.
//
// How each target is built (README "Platforms"):
// - Linux glibc targets go through `cargo zigbuild` (napi's `-x`) pinned to glibc 2.17
//   (`<triple>.2.17`), so the binary loads on every distribution Node 20 runs on (RHEL 8,
//   Debian 11, Amazon Linux 2, ...), not just on the build machine's glibc. zig comes from
//   PyPI: `pip install ziglang cargo-zigbuild`. Without zig, the host target is built with the
//   host's own toolchain and a warning: that binary needs the build machine's glibc, which is
//   fine for local use and is refused by the glibc-floor test.
// - Linux musl and macOS targets from a Linux host: `cargo zigbuild` too (zig required).
// - Anything else (macOS on a Mac, Windows on Windows): plain `napi build --target`.
//
// KNACK_SESSION_SKIP_BUILD=1 skips the build (for `npm install` where a prebuilt binary is
// used, e.g. the release workflow's test jobs).
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const GLIBC_FLOOR = '2.17'

function fail(message) {
  console.error(`\nknack-session build: ${message}`)
  process.exit(1)
}

function parseArgs(argv) {
  const out = { release: false, target: null, outputDir: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--release') out.release = true
    else if (a === '--target' && argv[i + 1]) out.target = argv[++i]
    else if (a === '--output-dir' && argv[i + 1]) out.outputDir = argv[++i]
    else fail(`unknown argument ${JSON.stringify(a)} (takes --release, --target <triple>, --output-dir <dir>)`)
  }
  return out
}

const ok = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  return r.status === 0 ? r.stdout : null
}

function hostTriple() {
  const out = ok('rustc', ['-vV'])
  if (out === null) {
    fail(
      'building the addon needs Rust 1.85 or later (https://rustup.rs), and `rustc` is not on PATH.\n' +
        'Prebuilt binaries come from the registry package: `npm install knack-session`.\n' +
        'To install this checkout without building, set KNACK_SESSION_SKIP_BUILD=1.',
    )
  }
  const m = /^host: (\S+)$/m.exec(out)
  if (!m) fail(`could not read the host triple from \`rustc -vV\`:\n${out}`)
  return m[1]
}

/** zig for cargo-zigbuild: on PATH, or the PyPI `ziglang` package (which cargo-zigbuild finds). */
function haveZig() {
  const zig = ok('zig', ['version']) ?? ok('python3', ['-m', 'ziglang', 'version'])
  return zig !== null && ok('cargo-zigbuild', ['--version']) !== null
}

const ZIG_HINT = 'install zig and cargo-zigbuild: `pip install ziglang cargo-zigbuild`'

function plan(target, host) {
  const linux = target.includes('-linux-')
  const gnu = linux && target.endsWith('-gnu')
  const viaZig = (linux && (target !== host || gnu)) || (target.includes('-apple-') && !host.includes('-apple-'))
  if (!viaZig) return { args: ['--target', target], note: null }
  if (haveZig()) {
    return { args: ['-x', '--target', gnu ? `${target}.${GLIBC_FLOOR}` : target], note: null }
  }
  if (target === host) {
    return {
      args: ['--target', target],
      note:
        `zig is not installed, so this build links against this machine's glibc instead of ${GLIBC_FLOOR}: ` +
        `it loads here, but not on older distributions (the glibc-floor test refuses it). For a portable build, ${ZIG_HINT}.`,
    }
  }
  fail(`building ${target} from ${host} needs zig: ${ZIG_HINT}.`)
}

if (process.env.KNACK_SESSION_SKIP_BUILD === '1') {
  console.log('knack-session build: skipped (KNACK_SESSION_SKIP_BUILD=1)')
  process.exit(0)
}

const opts = parseArgs(process.argv.slice(2))
const host = hostTriple()
const target = opts.target ?? host
const { args, note } = plan(target, host)
if (note) console.warn(`\nknack-session build: warning: ${note}\n`)

// A build into --output-dir (cross targets, the release matrix) writes only the .node file:
// binding.js / binding.d.ts are the host build's, committed and checked for drift.
const napiArgs = ['napi', 'build', '--platform', ...args]
if (opts.outputDir) napiArgs.push('--output-dir', path.resolve(opts.outputDir), '--no-js', '--dts', 'binding.d.ts')
else napiArgs.push('--js', 'binding.js', '--dts', 'binding.d.ts')
if (opts.release) napiArgs.push('--release')
console.log(`knack-session build: ${target}${opts.release ? ' (release)' : ' (debug)'}: npx ${napiArgs.join(' ')}`)
const r = spawnSync('npx', napiArgs, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
if (r.status !== 0) fail(`napi build failed (exit ${r.status ?? r.signal})`)
