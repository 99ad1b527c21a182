'use strict'
// A session's record in its store: the default store, saving it (sealed, kept as long as its
// token lives), reading it back, and store failures as KNACK_STORE.

const { MemoryStore } = require('./stores')
const codes = require('./codes')
const { KnackError, mapNative, messageOf } = require('./errors')
const { reportStoreError } = require('./callbacks')

let defaultStore = null
/** The store of checked options: the given one, or the process-wide MemoryStore. */
function storeOf(store) {
  if (store === undefined) {
    defaultStore = defaultStore ?? new MemoryStore()
    return defaultStore
  }
  return store
}

/** A store failure as KNACK_STORE, saying what failed (a KNACK_STORE error stays as it is). */
function storeError(e, what) {
  if (e instanceof KnackError && e.code === codes.STORE) return e
  return new KnackError(codes.STORE, `${what}: ${messageOf(e)}`, { cause: e })
}

/** Seal `native` (a NativeSession) into `store` under `info.id`, until its token expires. */
async function saveSession(store, sealer, native, info) {
  let sealed
  try {
    sealed = sealer.seal(native)
  } catch (e) {
    throw mapNative(e)
  }
  try {
    await store.set(info.id, sealed, Math.max(0, info.expiresAt - Date.now()))
  } catch (e) {
    throw storeError(e, 'could not save the session')
  }
}

/**
 * The NativeSession saved under `id`, or null when there is none or its record does not open
 * (told to `o.onStoreError`). A failing read is KNACK_STORE; bad options stay KNACK_INVALID_ARGUMENT.
 */
async function readSession(store, sealer, id, o) {
  let text
  try {
    text = await store.get(id)
  } catch (e) {
    throw storeError(e, 'could not read the session')
  }
  if (text === null || text === undefined) return null
  let sealed
  try {
    sealed = typeof text === 'string' ? text : String(text)
  } catch (e) {
    reportStoreError(o.onStoreError, storeError(e, 'the store returned a value that is not text'))
    return null
  }
  try {
    return sealer.open(id, sealed, o.native)
  } catch (e) {
    const err = mapNative(e)
    if (err.code === codes.INVALID_ARGUMENT) throw err
    reportStoreError(o.onStoreError, storeError(err, 'the stored session does not open'))
    return null
  }
}

/** Delete the record of an expired session; a failure goes to onStoreError, never thrown. */
async function dropExpired(store, id, onStoreError) {
  try {
    await store.delete(id)
  } catch (e) {
    reportStoreError(onStoreError, storeError(e, 'could not delete the expired session'))
  }
}

module.exports = { storeOf, storeError, saveSession, readSession, dropExpired }
