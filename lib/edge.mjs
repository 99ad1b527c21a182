// What knack-session is on the Edge runtime and in browser bundles (package.json "edge-light"
// and "browser" conditions for every entry point): an error that says where it runs, instead
// of a bundler error about a `.node` file. knack-session is a native Node.js addon.
//
// The module throws when it is evaluated, that is when the Edge route or middleware that
// imports it first runs. It still declares every name the Node entry points export, so that
// bundlers that check imports at build time (Turbopack, webpack) accept `import { ... }`.
const message =
  'knack-session cannot run on the Edge runtime or in the browser: it is a native Node.js addon. ' +
  'Use it on the Node.js runtime: in Server Components, Server Actions, route handlers and pages/api ' +
  "routes (the default runtime; remove `export const runtime = 'edge'`), and in middleware only with " +
  "`export const config = { runtime: 'nodejs' }` (Next 15.5+) or in Next 16's proxy.js, which runs on Node.js."

function unavailable() {
  const error = new Error(message)
  error.code = 'KNACK_EDGE_RUNTIME'
  return error
}

throw unavailable()

/* eslint-disable no-unreachable */
// index.mjs
export const KnackSession = undefined
export const KnackError = undefined
export const RecordIterator = undefined
export const MemoryStore = undefined
export const FileStore = undefined
export const RedisStore = undefined
export const setLogLevel = undefined
// express.mjs
export const knackSession = undefined
export const statusFor = undefined
export const errorAnswer = undefined
// next.mjs
export const createKnackAuth = undefined
export default undefined
