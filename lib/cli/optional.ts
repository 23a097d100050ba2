// The packages the command loads only for the options that need them (optional peer dependencies, which
// `npx fastify-server-push` does not install): a missing one is the option's error, saying how to add it.
import { FST_SERVER_PUSH_COMMAND_USAGE } from '../core/errors.js'

/** What `load()` gives; FST_SERVER_PUSH_COMMAND_USAGE naming `option` and `pkg` when a module it needs is missing. */
export async function optional<T> (load: () => Promise<T>, option: string, pkg: string): Promise<T> {
  try {
    return await load()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err
    throw new FST_SERVER_PUSH_COMMAND_USAGE(`${option} needs the package ${pkg}: npx -p fastify-server-push -p ${pkg} fastify-server-push …, or npm i ${pkg}`)
  }
}
