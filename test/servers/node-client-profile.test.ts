// test/client-profile.test.ts against a node:http server serving the routes with fastify-server-push/node.
process.env.PUSH_SERVER = 'node'
await import('../client-profile.test.js')
