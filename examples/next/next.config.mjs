// knack-session is a native addon: Next must load it with Node's require, not bundle it.
/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ['knack-session'],
}
export default nextConfig
