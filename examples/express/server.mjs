// Run the example: `node examples/express/server.mjs`. Without KNACK_API_URL it starts
// fake-knack with the demo helpdesk app (build it first: `cargo build -p fake-knack`).
// Then open http://localhost:3000 and log in as alice@example.com / alice-pass-1 (customer)
// or carol@example.com / carol-pass-1 (agent).
import crypto from 'node:crypto'
import { createApp } from './app.mjs'

const port = Number(process.env.PORT ?? 3000)
let baseUrl = process.env.KNACK_API_URL
let appId = process.env.KNACK_APP_ID ?? '5f0c0ffee0c0ffee0c0ffee1'
let fake = null
if (!baseUrl) {
  const { startFake } = await import('../../__test__/helpers/fake.mjs')
  fake = await startFake([])
  baseUrl = fake.baseUrl
  appId = fake.appId
  console.log(`fake-knack at ${fake.url}`)
}
const secret = process.env.SESSION_SECRET ?? crypto.randomBytes(32).toString('hex')
const app = createApp({ appId, baseUrl, secret })
const server = app.listen(port, () => console.log(`helpdesk example on http://localhost:${port}`))
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    server.close()
    await fake?.stop()
    process.exit(0)
  })
}
