// What a built addon is: its format, the glibc versions it needs, its ELF interpreter and
// whether it exports napi's entry point. Used by the glibc-floor test, the arm64 smoke run and
// the cross matrix (scripts/platforms.mjs). Reads files with binutils' `readelf` (present
// wherever Rust links), `file`, and, for Mach-O and PE files, rustup's `llvm-nm` when the
// llvm-tools component is installed.
import { spawnSync } from 'node:child_process'
import { existsSync, openSync, readSync, closeSync, readdirSync } from 'node:fs'
import path from 'node:path'

export const GLIBC_FLOOR = '2.17'

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (r.error || r.status !== 0) return null
  return r.stdout
}

/** Compare dotted versions numerically: '2.17' < '2.3' is false. */
export function compareVersions(a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** The file's first bytes name its format: ELF, Mach-O (thin or fat) or PE. */
export function format(file) {
  const fd = openSync(file, 'r')
  const head = Buffer.alloc(4)
  try {
    readSync(fd, head, 0, 4, 0)
  } finally {
    closeSync(fd)
  }
  if (head.toString('latin1') === '\x7fELF') return 'elf'
  const magic = head.readUInt32BE(0)
  if ([0xcffaedfe, 0xcefaedfe, 0xfeedfacf, 0xcafebabe].includes(magic)) return 'macho'
  if (head[0] === 0x4d && head[1] === 0x5a) return 'pe'
  return 'unknown'
}

/** Every GLIBC_x.y version the ELF file needs, sorted, from its version-needs section. */
export function glibcVersions(file) {
  const out = run('readelf', ['-V', '-W', file])
  if (out === null) throw new Error(`readelf could not read ${file} (is binutils installed?)`)
  const versions = new Set()
  for (const m of out.matchAll(/Name: GLIBC_([0-9.]+)/g)) versions.add(m[1])
  return [...versions].sort(compareVersions)
}

/** The highest GLIBC_ version the file needs, or null when it needs none (musl, or static). */
export function glibcFloor(file) {
  const v = glibcVersions(file)
  return v.length ? v[v.length - 1] : null
}

/** The ELF program interpreter, or the libc it needs (shared objects have no PT_INTERP). */
export function elfLibc(file) {
  const out = run('readelf', ['-d', '-W', file]) ?? ''
  const needed = [...out.matchAll(/Shared library: \[([^\]]+)\]/g)].map((m) => m[1])
  return needed
}

/** An LLVM tool from rustup's llvm-tools component, else one on PATH; null if none. */
function llvmTool(name) {
  const sysroot = run('rustc', ['--print', 'sysroot'])
  if (sysroot) {
    const bin = path.join(sysroot.trim(), 'lib/rustlib')
    if (existsSync(bin)) {
      for (const d of readdirSync(bin)) {
        const p = path.join(bin, d, 'bin', name)
        if (existsSync(p)) return p
      }
    }
  }
  return run(name, ['--version']) !== null ? name : null
}

/** mingw's objdump, else llvm-objdump; null if neither is installed. */
export function objdumpTool() {
  return run('x86_64-w64-mingw32-objdump', ['--version']) !== null ? 'x86_64-w64-mingw32-objdump' : llvmTool('llvm-objdump')
}

/** The text after a PE file's export table heading in `objdump -p`, or null. */
function peExportTable(file) {
  const tool = objdumpTool()
  if (tool === null) return null
  const out = run(tool, ['-p', file])
  if (out === null) return null
  const at = out.search(/^Export Table:|^\[Ordinal\/Name Pointer\] Table/m)
  return at < 0 ? '' : out.slice(at)
}

/** Whether the file exports `napi_register_module_v1`, napi's module entry point. */
export function exportsNapiEntry(file) {
  const kind = format(file)
  if (kind === 'elf') {
    const out = run('readelf', ['--dyn-syms', '-W', file]) ?? ''
    return /\bGLOBAL\s+DEFAULT\s+\d+\s+napi_register_module_v1\b/.test(out)
  }
  if (kind === 'pe') {
    // The export table is what LoadLibrary + GetProcAddress go by (the symbol table of a
    // release build is stripped).
    const table = peExportTable(file)
    return table === null ? null : /\bnapi_register_module_v1\b/.test(table)
  }
  const nm = llvmTool('llvm-nm')
  if (nm === null) return null // unknown: `rustup component add llvm-tools` to check
  const out = run(nm, ['--extern-only', '--defined-only', file]) ?? ''
  return /\b_?napi_register_module_v1\b/.test(out)
}

/** One line as `file(1)` describes the file, when `file` is installed. */
export function fileDescription(file) {
  const out = run('file', ['-b', file])
  return out === null ? null : out.trim()
}
