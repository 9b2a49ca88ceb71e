import { ref, type Ref } from 'vue'

/**
 * The index a key moves to in a row of items (tabs, radios): arrows step and wrap, Home and End
 * jump to the ends. Null for any other key.
 */
export function nextInRow(key: string, index: number, count: number): number | null {
  if (count <= 0) return null
  switch (key) {
    case 'ArrowRight':
    case 'ArrowDown':
      return (index + 1) % count
    case 'ArrowLeft':
    case 'ArrowUp':
      return (index - 1 + count) % count
    case 'Home':
      return 0
    case 'End':
      return count - 1
    default:
      return null
  }
}

/**
 * The index a key moves to in a grid of `columns` columns, without wrapping: arrows move one cell,
 * Home and End go to the first and last item. Null for any other key or a move off the grid.
 */
export function nextInGrid(key: string, index: number, count: number, columns: number): number | null {
  const cols = Math.max(1, columns)
  let next: number
  switch (key) {
    case 'ArrowRight':
      next = index + 1
      break
    case 'ArrowLeft':
      next = index - 1
      break
    case 'ArrowDown':
      next = index + cols
      break
    case 'ArrowUp':
      next = index - cols
      break
    case 'Home':
      return count > 0 ? 0 : null
    case 'End':
      return count > 0 ? count - 1 : null
    default:
      return null
  }
  return next >= 0 && next < count ? next : null
}

/** Columns of a wrapped grid of items: how many share the first item's row. */
export function columnsOf(items: readonly HTMLElement[]): number {
  if (items.length === 0) return 1
  const top = items[0].offsetTop
  const sameRow = items.findIndex((el) => el.offsetTop !== top)
  return sameRow === -1 ? items.length : sameRow
}

const focusable = (el: HTMLElement): boolean =>
  !(el as HTMLButtonElement).disabled && el.getAttribute('aria-disabled') !== 'true'

/**
 * Roving focus over the items matching `selector` inside `container`: one tab stop for the
 * whole grid, arrows inside it (97 Tab presses to pass a page of samples is too many).
 * `columns` fixes the grid's width (a table); otherwise it is read from the layout.
 */
export function useRovingGrid(
  container: Ref<HTMLElement | null>,
  selector: string,
  columns?: () => number
): { active: Ref<number>; tabindex: (k: number) => 0 | -1; onKeydown: (e: KeyboardEvent) => void } {
  const active = ref(0)

  function onKeydown(e: KeyboardEvent): void {
    const root = container.value
    if (!root) return
    const items = [...root.querySelectorAll<HTMLElement>(selector)]
    const from = items.indexOf(e.target as HTMLElement)
    if (from === -1) return
    const cols = columns ? columns() : columnsOf(items)
    let next = nextInGrid(e.key, from, items.length, cols)
    if (next === null) return
    e.preventDefault()
    // Step over cells that cannot take focus (an empty confusion-matrix cell), same direction.
    const step = next - from
    while (next !== null && !focusable(items[next])) {
      const after: number = next + (e.key === 'Home' ? 1 : e.key === 'End' ? -1 : step)
      next = after >= 0 && after < items.length ? after : null
    }
    if (next === null) return
    active.value = next
    items[next].focus()
  }

  return { active, tabindex: (k) => (k === active.value ? 0 : -1), onKeydown }
}
