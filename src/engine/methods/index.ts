import type { EngineMethod } from './types'
import { evaluateMethod } from './evaluate'
import { createInspectMethods } from './inspect-run'

/**
 * The engine's callable methods, by name. Each feature adds its methods in its own file and
 * one line here; the supervisor calls them with `engine.call(name, params)`.
 */
export const METHODS: Record<string, EngineMethod> = {
  evaluate: evaluateMethod,
  ...createInspectMethods()
}
