import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'

/** The window's inner width, kept current on resize: pictures grow with the screen. */
export function useWindowWidth(): Ref<number> {
  const width = ref(typeof window === 'undefined' ? 1024 : window.innerWidth)
  const update = (): void => {
    width.value = window.innerWidth
  }
  onMounted(() => window.addEventListener('resize', update))
  onBeforeUnmount(() => window.removeEventListener('resize', update))
  return width
}

/** A picture size in CSS pixels for a window width: `base` up to 1280 px, growing to `wide` at 1920 px. */
export function sizeFor(width: number, base: number, wide: number): number {
  const t = Math.max(0, Math.min(1, (width - 1280) / (1920 - 1280)))
  return Math.round(base + t * (wide - base))
}
