// Module resolve hook for README Next.js blocks: resolves the `@/…` import alias the way a Next
// app does by default (create-next-app's jsconfig.json: `"paths": { "@/*": ["./*"] }`, with
// the bundler's extension lookup), so route files written as a README shows them import as
// they would in that app. Registered by __test__/readme.test.mjs with
//   module.register(thisFileUrl, { data: { root: '/the/app/dir' } })
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

let root

export function initialize(data) {
  root = data.root
}

const EXTENSIONS = ['', '.js', '.mjs', '.cjs', '/index.js', '/index.mjs']

export async function resolve(specifier, context, next) {
  if (root && specifier.startsWith('@/')) {
    const base = path.join(root, specifier.slice(2))
    for (const ext of EXTENSIONS) {
      const p = base + ext
      if (existsSync(p) && statSync(p).isFile()) return next(pathToFileURL(p).href, context)
    }
  }
  return next(specifier, context)
}
