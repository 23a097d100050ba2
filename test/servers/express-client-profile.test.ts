// test/client-profile.test.ts against an Express 5 app serving the routes with fastify-server-push/node.
process.env.PUSH_SERVER = 'express'
await import('../client-profile.test.js')
