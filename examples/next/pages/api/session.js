// Pages Router login: POST JSON { email, password, remember? } -> 200 { user } + the session
// cookie (the same cookie the App Router pages read). Logout is pages/api/session-end.js.
import { knack } from '../../lib/knack.mjs'

export default knack.pages.login
