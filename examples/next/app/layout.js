export const metadata = { title: 'Helpdesk (knack-session example)' }

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '2rem auto' }}>{children}</body>
    </html>
  )
}
