// test/fan-out.test.ts against an Express 5 app serving the routes with fastify-server-push/node.
process.env.PUSH_SERVER = 'express'
await import('../fan-out.test.js')
