import m from './lib/express.js'
export const { knackSession, statusFor, errorAnswer } = m
export default m
