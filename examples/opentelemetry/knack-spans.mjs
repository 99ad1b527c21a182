// knack-session's requests as OpenTelemetry client spans, built from its diagnostics_channel
// events (README "Observability"). knack-session sends HTTP from Rust, so the undici/http
// instrumentations never see it; this bridge does, in about fifty lines. Events are published
// in the async context of the call that made them, so each span's parent is the span active
// where you called getRecords() (your Express or Next.js request's span).
//
//   import { traceKnackSession } from './knack-spans.mjs'
//   const stop = traceKnackSession({ baseUrl: 'https://api.knack.com/v1' })
//
// Attributes follow OpenTelemetry's HTTP client conventions: http.request.method, url.full,
// server.address, http.response.status_code, http.request.resend_count, error.type.
import dc from 'node:diagnostics_channel'
import { trace, context, SpanKind, SpanStatusCode } from '@opentelemetry/api'

export function traceKnackSession({ tracer = trace.getTracer('knack-session'), baseUrl = 'https://api.knack.com/v1' } = {}) {
  const base = new URL(baseUrl)
  const root = base.href.replace(/\/$/, '')
  const spans = new Map()
  const waits = new Map()

  const handlers = {
    'knack-session:ratelimit:wait': (m) => {
      const span = spans.get(m.requestId)
      const attrs = { 'knack.wait_ms': m.waitMs, 'knack.wait_reason': m.reason }
      if (span) span.addEvent('knack.ratelimit.wait', attrs)
      else waits.set(m.requestId, attrs) // the first attempt waits before its request starts
    },
    'knack-session:request:start': (m) => {
      const span = tracer.startSpan(
        m.method,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'http.request.method': m.method,
            'url.full': root + m.path,
            'server.address': base.hostname,
            'knack.request_id': m.requestId,
          },
        },
        context.active(),
      )
      const waited = waits.get(m.requestId)
      if (waited) {
        span.addEvent('knack.ratelimit.wait', waited)
        waits.delete(m.requestId)
      }
      spans.set(m.requestId, span)
    },
    'knack-session:request:retry': (m) => {
      spans.get(m.requestId)?.addEvent('knack.retry', { 'knack.attempt': m.attempt, 'knack.retry_reason': m.reason, 'knack.wait_ms': m.waitMs, ...(m.status ? { 'http.response.status_code': m.status } : {}) })
    },
    'knack-session:request:end': (m) => finish(m, m.status >= 400 ? String(m.status) : null),
    'knack-session:request:error': (m) => finish(m, m.code),
  }

  function finish(m, errorType) {
    const span = spans.get(m.requestId)
    if (!span) return
    spans.delete(m.requestId)
    if (m.status) span.setAttribute('http.response.status_code', m.status)
    if (m.attempt > 1) span.setAttribute('http.request.resend_count', m.attempt - 1)
    if (errorType) {
      span.setAttribute('error.type', errorType)
      span.setStatus({ code: SpanStatusCode.ERROR, message: m.code ?? `HTTP ${m.status}` })
    }
    span.end()
  }

  for (const [name, fn] of Object.entries(handlers)) dc.subscribe(name, fn)
  return function stop() {
    for (const [name, fn] of Object.entries(handlers)) dc.unsubscribe(name, fn)
  }
}
