import m from './lib/next.js'
export const { createKnackAuth } = m
export default m
