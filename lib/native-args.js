'use strict'
// Checked arguments (lib/options.js) -> the flat shapes the native binding takes
// (NativeOptions, NativeQuery, NativePagingOptions in binding.d.ts).

const { sessionOptions } = require('./options')

/** SessionOptions -> the flat native options (checked; only NativeOptions fields). */
function nativeOptions(opts) {
  return sessionOptions(opts, 'fromToken').native
}

/** Checked query args -> the native query (filters already JSON text). */
function nativeQuery(a) {
  return {
    scene: a.scene,
    view: a.view,
    page: a.page,
    rowsPerPage: a.rowsPerPage,
    filters: a.filters,
    sortField: a.sortField,
    sortOrder: a.sortOrder,
    format: a.format,
    parentRecordId: a.parentRecordId,
    shape: a.shape,
    fields: a.fields,
  }
}

/** Checked view args -> the native view of a record call. */
function nativeView(a) {
  return { scene: a.scene, view: a.view, parentRecordId: a.parentRecordId, shape: a.shape, fields: a.fields }
}

/** Checked paging args -> the native paging options. */
function pagingOptions(a) {
  return { maxRecords: a.maxRecords, prefetchPages: a.prefetchPages, strict: a.strict }
}

module.exports = { nativeOptions, nativeQuery, nativeView, pagingOptions }
