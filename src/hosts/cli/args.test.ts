import { describe, expect, it } from 'vitest'
import { TRAIN_OPTIONS, hyperFlagsUsage, hyperFromFlags, parseFlags } from './args'
import { DEFAULT_HYPER, HYPER_FIELDS } from '../../shared/hyper'

const hyperOf = (argv: string[]) => hyperFromFlags(parseFlags(argv, TRAIN_OPTIONS).values)

describe('train flags: optimizer settings, schedule, weight decay, early stopping', () => {
  it('keeps the defaults that reproduce earlier runs when no flag is given', () => {
    expect(hyperOf([])).toMatchObject({ momentum: 0.9, beta1: 0.9, beta2: 0.999, rho: 0.99, weightDecay: 0, schedule: 'none', earlyStopping: 0 })
  })

  it('reads every new flag', () => {
    const h = hyperOf(['--optimizer', 'momentum', '--momentum', '0.8', '--weight-decay', '1e-4', '--schedule', 'step', '--step-size', '3', '--gamma', '0.5', '--early-stopping', '2', '--beta1', '0.85', '--beta2', '0.99', '--rho', '0.9'])
    expect(h).toMatchObject({ optimizer: 'momentum', momentum: 0.8, weightDecay: 0.0001, schedule: 'step', stepSize: 3, gamma: 0.5, earlyStopping: 2, beta1: 0.85, beta2: 0.99, rho: 0.9 })
  })

  it.each([
    [['--schedule', 'linear'], /--schedule/],
    [['--weight-decay', '-1'], /--weight-decay/],
    [['--early-stopping', '1.5'], /--early-stopping/],
    [['--gamma', 'x'], /--gamma must be a number/]
  ])('names the flag in a typed error (%j)', (argv, message) => {
    expect(() => hyperOf(argv)).toThrow(message)
    try {
      hyperOf(argv)
    } catch (err) {
      expect(err).toMatchObject({ code: 'BAD_REQUEST' })
    }
  })
})

describe('flags generated from the hyperparameter table', () => {
  it('gives every hyperparameter its own flag, in the parser and in the help', () => {
    const flags = Object.values(HYPER_FIELDS).map((f) => f.flag)
    expect(new Set(flags).size).toBe(flags.length)
    const usage = hyperFlagsUsage().join(' ')
    for (const flag of flags) {
      expect(Object.keys(TRAIN_OPTIONS)).toContain(flag.slice(2))
      expect(usage).toContain(`[${flag}`)
    }
    expect(usage).toContain('[--optimizer sgd|momentum|adam|rmsprop]')
    expect(usage).toContain('[--batch-size N]')
    expect(usage).toContain('[--lr X]')
    expect(usage).toContain('[--stratify]')
  })

  it('sets each numeric hyperparameter through its flag', () => {
    for (const [key, f] of Object.entries(HYPER_FIELDS)) {
      const value = DEFAULT_HYPER[key as keyof typeof DEFAULT_HYPER]
      if (typeof value !== 'number' || f.flagSets) continue
      // The default itself is always valid; parsing it back through the flag must give it.
      expect(hyperOf([f.flag, String(value)])[key as keyof typeof DEFAULT_HYPER]).toBe(value)
    }
    expect(hyperOf(['--limit', '7']).limit).toBe(7)
  })
})
