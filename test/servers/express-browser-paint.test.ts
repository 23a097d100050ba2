// test/browser-paint.test.ts against an Express 5 app serving the stream with fastify-server-push/node.
process.env.PUSH_SERVER = 'express'
await import('../browser-paint.test.js')
