// knack-session is a native addon: Next must load it with Node's require, not bundle it.
// `NEXT_OUTPUT=standalone next build` makes the self-contained server (the .node file is
// traced into .next/standalone like any other dependency file).
/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ['knack-session'],
  ...(process.env.NEXT_OUTPUT === 'standalone' ? { output: 'standalone' } : {}),
}
export default nextConfig
