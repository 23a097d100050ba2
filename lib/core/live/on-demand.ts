// The hub of a live source whose frames come from something that runs only while the source is watched: started
// for the first viewer (or snapshot), stopped `lingerMs` after the last one, and at once when no route shows it.
import { noop } from '../async.js'
import { LiveHub, type LiveSourceOptions } from './source.js'

export abstract class OnDemandHub extends LiveHub {
  private lingerTimer: NodeJS.Timeout | undefined
  /** Settles once all that was stopped so far has finished stopping (a process exited, a connection closed). */
  private stopping: Promise<void> = Promise.resolve()

  /** @param where who made the source, named in an option's error. */
  constructor (private readonly lingerMs: number, options: LiveSourceOptions, where: string) {
    super(options, where)
  }

  override get hasProducer (): boolean {
    return true
  }

  override stopped (): Promise<void> {
    return this.stopping
  }

  override close (): void {
    super.close()
    this.stop()
  }

  /** Counts `done` in what stopped() waits for; chained, so that a later stop never lets anyone past an earlier one. */
  protected stopsWith (done: Promise<unknown>): void {
    this.stopping = Promise.all([this.stopping, done]).then(noop)
  }

  /** Starts what feeds the source, unless it runs already or the source is closed. */
  protected abstract start (): void

  /** Stops what feeds the source, if it runs. */
  protected abstract stop (): void

  protected override wanted (on: boolean): void {
    clearTimeout(this.lingerTimer)
    this.lingerTimer = undefined
    if (on) {
      this.start()
    } else if (this.lingerMs > 0) {
      // unref: what lingers for viewers that may come back must not keep the process alive.
      this.lingerTimer = setTimeout(() => this.stop(), this.lingerMs).unref()
    } else {
      this.stop()
    }
  }

  protected override unwatched (): void {
    clearTimeout(this.lingerTimer)
    this.stop()
  }
}
