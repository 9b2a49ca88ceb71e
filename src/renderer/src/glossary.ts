/** Plain-word explanations of the terms a beginner meets, shown on hover or focus. */
export const GLOSSARY = {
  epoch: 'One pass over every training image. Training usually takes several.',
  batch:
    'The few images the network looks at before each small change to its weights. Bigger batches give steadier but fewer steps per epoch.',
  learningRate:
    'How big a step the weights take after each batch. Too big and the loss jumps around or blows up; too small and learning crawls.',
  samplesPerSecond: 'Training images processed per second on this computer.',
  logits:
    'The raw scores of the last layer, one per class, before softmax turns them into probabilities that add up to 100 %.',
  saliency:
    'How much each input pixel changes the winning score: bright pixels are the ones that would sway the answer most.',
  gradCam:
    'Grad-CAM: weights the last convolution’s feature maps by how much each one raises the winning score, to show where the network looked.',
  perplexity:
    'Roughly how many neighbours t-SNE tries to keep close to each point: small values show fine local groups, large values the big picture.',
  iterations: 'How many steps t-SNE takes to arrange the map; more steps settle it further.',
  multAdds:
    'Multiply-adds: how many multiplications (each followed by an addition) one image costs in this layer, a measure of compute.',
  wasm: 'WebAssembly: TensorFlow.js compiled to run fast on the processor, on any computer.',
  webgpu: 'WebGPU: TensorFlow.js on the graphics card, where one is available.',
  tensorflow: 'TensorFlow (native): Google’s compiled library, fastest on the processor where it installs.',
  cpu: 'Plain JavaScript: works everywhere, but slowest.'
} as const

export type GlossaryTerm = keyof typeof GLOSSARY

/** The explanation of a compute backend's name, or a generic one. */
export function backendExplanation(name: string | null | undefined): string {
  if (name && name in GLOSSARY) return GLOSSARY[name as GlossaryTerm]
  return 'The engine that runs the network’s arithmetic on this computer.'
}

/**
 * A probability as a percentage with enough digits to tell it from 100 % (and the runner-up
 * from 0 %): 0.99996 is "99.996 %", not "100.0 %".
 */
export function formatProbability(p: number): string {
  if (!Number.isFinite(p)) return '—'
  if (p >= 1) return '100 %'
  if (p <= 0) return '0 %'
  let digits = 1
  // Add digits until the number no longer rounds to 100 % or to 0 %.
  while (digits < 6 && (Number((p * 100).toFixed(digits)) >= 100 || Number((p * 100).toFixed(digits)) <= 0)) {
    digits++
  }
  return `${(p * 100).toFixed(digits)} %`
}
