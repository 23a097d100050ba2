// tap's `before` step: the package, example and type tests load dist/, so it is rebuilt from lib/ first.
import { execFileSync } from 'node:child_process'

execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' })
