// examples/opentelemetry/knack-spans.mjs with the real OpenTelemetry SDK: knack-session's
// requests become client spans with the standard HTTP attributes, children of the span active
// where the call was made, with retries recorded; exported by an in-memory exporter.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { trace, context, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { KnackSession } from '../index.js'
import { traceKnackSession } from '../examples/opentelemetry/knack-spans.mjs'
import { startFake, USERS, APP_ID } from './helpers/fake.mjs'

const MY_TICKETS = { scene: 'scene_1', view: 'view_1' }
let fake
let exporter
let tracer
let stop

before(async () => {
  fake = await startFake(['--rate-limit', 'off'])
  exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(provider)
  tracer = trace.getTracer('test')
  stop = traceKnackSession({ baseUrl: fake.baseUrl })
})
after(async () => {
  stop()
  await fake.stop()
})

const settle = () => new Promise((r) => setTimeout(r, 50))

test('each Knack request is a client span with the HTTP attributes, a child of the span active at the call', async () => {
  const alice = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, ...USERS.alice })
  exporter.reset()
  await tracer.startActiveSpan('GET /tickets', async (parent) => {
    await alice.getRecords(MY_TICKETS)
    parent.end()
  })
  await settle()
  const spans = exporter.getFinishedSpans()
  const parent = spans.find((s) => s.name === 'GET /tickets')
  const knack = spans.find((s) => s.kind === SpanKind.CLIENT)
  assert.ok(parent && knack, spans.map((s) => s.name).join(', '))
  assert.equal(knack.name, 'GET')
  assert.equal(knack.parentSpanContext?.spanId ?? knack.parentSpanId, parent.spanContext().spanId, 'the Knack span is a child of the caller span')
  assert.equal(knack.spanContext().traceId, parent.spanContext().traceId)
  assert.equal(knack.attributes['http.request.method'], 'GET')
  assert.equal(knack.attributes['url.full'], `${fake.baseUrl}/pages/scene_1/views/view_1/records`)
  assert.equal(knack.attributes['server.address'], '127.0.0.1')
  assert.equal(knack.attributes['http.response.status_code'], 200)
  assert.equal(knack.status.code, SpanStatusCode.UNSET)
})

test('a retried request is one span with a retry event and resend_count; a failure has error.type and an error status', async () => {
  const alice = await KnackSession.login({ appId: APP_ID, baseUrl: fake.baseUrl, rateLimit: false, retries: 2, ...USERS.alice })
  exporter.reset()
  await fake.faults([{ kind: 'status', status: 502, body: 'bad gateway', content_type: 'text/plain', method: 'GET', times: 1 }])
  await alice.getRecords(MY_TICKETS)
  await fake.faults([{ kind: 'reset_before', method: 'GET', times: 3 }])
  await assert.rejects(alice.getRecords(MY_TICKETS), { code: 'KNACK_NETWORK' })
  await assert.rejects(alice.getRecords({ scene: 'scene_1', view: 'view_404' }), { code: 'KNACK_NOT_FOUND' })
  await settle()
  const [retried, failed, missing] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT)
  assert.equal(retried.attributes['http.request.resend_count'], 1)
  assert.equal(retried.events[0].name, 'knack.retry')
  assert.equal(retried.events[0].attributes['http.response.status_code'], 502)
  assert.equal(retried.attributes['http.response.status_code'], 200)
  assert.equal(failed.attributes['error.type'], 'KNACK_NETWORK')
  assert.equal(failed.status.code, SpanStatusCode.ERROR)
  assert.equal(failed.attributes['http.request.resend_count'], 2)
  assert.equal(missing.attributes['error.type'], '404')
  assert.equal(missing.attributes['http.response.status_code'], 404)
})
