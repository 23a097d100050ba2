// test/hostile/clients.test.ts against an Express 5 app serving the routes with fastify-server-push/node.
process.env.PUSH_SERVER = 'express'
await import('../hostile/clients.test.js')
