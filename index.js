'use strict'
// knack-session: Knack user sessions for Node backends, from Rust.

const { KnackSession, RecordIterator } = require('./lib/session')
const { KnackError } = require('./lib/errors')
const { MemoryStore, FileStore, RedisStore } = require('./lib/stores')
const { setLogLevel } = require('./binding.js')

module.exports = { KnackSession, KnackError, RecordIterator, MemoryStore, FileStore, RedisStore, setLogLevel }
