'use strict'
// AbortSignal -> native CancelHandle. One 'abort' listener per signal however many calls
// share it (so 30 concurrent calls on one signal do not trip MaxListenersExceededWarning);
// it is removed when the last of those calls settles, so a long-lived signal collects nothing.

const { abortedError, invalid } = require('./errors')
const { observe } = require('./diagnostics')

function checkSignal(signal) {
  if (signal === undefined || signal === null) return null
  if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw invalid('signal must be an AbortSignal')
  }
  if (signal.aborted) throw abortedError(signal)
  return signal
}

/** signal -> { handles: Set<CancelHandle>, onAbort } while calls on it are in flight. */
const linked = new WeakMap()

function cancel(handle) {
  try {
    handle.cancel()
  } catch {
    // a handle whose call has finished may refuse; nothing to cancel then
  }
}

/**
 * Link a signal to a new native CancelHandle, and observe the call for `watch` (a session's
 * watcher) and diagnostics_channel subscribers (lib/diagnostics.js). Returns
 * { handle, dispose }; call dispose() when the call has settled.
 * @param {AbortSignal | null} signal
 * @param {new () => { cancel(): void, observe(id: number, quiet: boolean): void }} CancelHandle
 * @param {object | null} [watch]
 */
function link(signal, CancelHandle, watch = null) {
  const seen = observe(watch)
  if (!signal && !seen.id) return { handle: undefined, dispose() {} }
  const handle = new CancelHandle()
  // An observed call carries its observer id to Rust on the handle.
  if (seen.id) handle.observe(seen.id, seen.quiet)
  if (!signal) return { handle, dispose: () => seen.release() }
  if (signal.aborted) {
    cancel(handle)
    return { handle, dispose: () => seen.release() }
  }
  let entry = linked.get(signal)
  if (!entry) {
    const handles = new Set()
    const onAbort = () => {
      linked.delete(signal)
      for (const h of handles) cancel(h)
      handles.clear()
    }
    entry = { handles, onAbort }
    linked.set(signal, entry)
    signal.addEventListener('abort', onAbort, { once: true })
  }
  entry.handles.add(handle)
  let disposed = false
  return {
    handle,
    dispose() {
      if (disposed) return
      disposed = true
      seen.release()
      entry.handles.delete(handle)
      if (entry.handles.size === 0 && linked.get(signal) === entry) {
        linked.delete(signal)
        signal.removeEventListener('abort', entry.onAbort)
      }
    },
  }
}

// abortedError is lib/errors.js's (mapNative makes it too); exported here as well, as before.
module.exports = { checkSignal, link, abortedError }
