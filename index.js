'use strict'
// knack-session: Knack user sessions for Node backends, from Rust.

const { KnackSession, RecordIterator } = require('./lib/session')
const { KnackError, mapNative, invalid } = require('./lib/errors')
const { MemoryStore, FileStore, RedisStore } = require('./lib/stores')
const { closest } = require('./lib/options')
const native = require('./lib/native')

const LOG_LEVELS = Object.freeze(['off', 'error', 'warn', 'info', 'debug'])

/**
 * Log level of the Rust core: 'off' | 'error' | 'warn' | 'info' | 'debug' (exactly these,
 * lower case); overrides KNACK_SESSION_LOG. Anything else is KNACK_INVALID_ARGUMENT.
 */
function setLogLevel(level) {
  if (typeof level !== 'string' || !LOG_LEVELS.includes(level)) {
    const hint = typeof level === 'string' ? closest(level, LOG_LEVELS) : null
    throw invalid(
      `setLogLevel takes "off", "error", "warn", "info" or "debug", got ${typeof level === 'string' ? JSON.stringify(level) : String(typeof level)}${hint ? ` (did you mean "${hint}"?)` : ''}`,
    )
  }
  try {
    native.setLogLevel(level)
  } catch (e) {
    throw mapNative(e)
  }
}

module.exports = { KnackSession, KnackError, RecordIterator, MemoryStore, FileStore, RedisStore, setLogLevel }
