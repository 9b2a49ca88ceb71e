/** Where a JSON text first breaks; `truncated` when it simply ends too early. */
export interface JsonSyntaxProblem {
  position: number
  truncated: boolean
  /** What was expected at `position`. */
  expected: string
}

type State = 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'afterValue'

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const NUMBER_PREFIX_RE = /-?(?:0|[1-9]\d*)?(?:\.\d*)?(?:[eE][+-]?\d*)?$/
const ESCAPES = '"\\/bfnrtu'
const HEX_RE = /^[0-9a-fA-F]{0,4}$/

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t'
}

/** Scans a string starting at the opening quote; returns the index after it, or a problem. */
function scanString(text: string, start: number): number | JsonSyntaxProblem {
  let i = start + 1
  while (i < text.length) {
    const ch = text[i]
    if (ch === '"') return i + 1
    if (ch === '\\') {
      if (i + 1 >= text.length) break
      const esc = text[i + 1]
      if (!ESCAPES.includes(esc)) {
        return { position: i, truncated: false, expected: 'a valid escape sequence' }
      }
      if (esc === 'u') {
        const hex = text.slice(i + 2, i + 6)
        if (!HEX_RE.test(hex)) {
          return { position: i, truncated: false, expected: 'four hex digits after \\u' }
        }
        if (hex.length < 4) break
        i += 6
      } else {
        i += 2
      }
      continue
    }
    if (ch.charCodeAt(0) < 0x20) {
      return { position: i, truncated: false, expected: 'a closing quote before the line break' }
    }
    i++
  }
  return { position: text.length, truncated: true, expected: 'a closing quote' }
}

function scanLiteral(text: string, i: number): number | JsonSyntaxProblem {
  for (const word of ['true', 'false', 'null']) {
    if (text.startsWith(word, i)) return i + word.length
    const rest = text.slice(i)
    if (rest.length < word.length && word.startsWith(rest)) {
      return { position: text.length, truncated: true, expected: word }
    }
  }
  return { position: i, truncated: false, expected: 'a value' }
}

function scanNumber(text: string, i: number): number | JsonSyntaxProblem {
  NUMBER_RE.lastIndex = i
  const match = NUMBER_RE.exec(text)
  const end = match ? i + match[0].length : i
  if (end === text.length) return end
  if (match && !/[0-9.eE+-]/.test(text[end])) return end
  if (NUMBER_PREFIX_RE.test(text.slice(i))) {
    return { position: text.length, truncated: true, expected: 'the rest of a number' }
  }
  return { position: end, truncated: false, expected: 'a number' }
}

/**
 * Finds the first syntax error in a JSON text without recursion, so deep nesting cannot overflow
 * the stack. Returns null when the text is valid JSON.
 */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | null {
  const stack: string[] = []
  let state: State = 'value'
  let i = 0
  const fail = (expected: string): JsonSyntaxProblem =>
    i >= text.length
      ? { position: text.length, truncated: true, expected }
      : { position: i, truncated: false, expected }

  for (;;) {
    while (i < text.length && isSpace(text[i])) i++
    const ch = text[i]
    if (state === 'afterValue') {
      if (stack.length === 0) {
        return i >= text.length ? null : { position: i, truncated: false, expected: 'end of file' }
      }
      const top = stack[stack.length - 1]
      const close = top === '{' ? '}' : ']'
      if (ch === ',') {
        state = top === '{' ? 'key' : 'value'
        i++
      } else if (ch === close) {
        stack.pop()
        i++
      } else {
        return fail(`',' or '${close}'`)
      }
      continue
    }
    if (state === 'colon') {
      if (ch !== ':') return fail("':' after the property name")
      state = 'value'
      i++
      continue
    }
    if (state === 'keyOrClose' && ch === '}') {
      stack.pop()
      state = 'afterValue'
      i++
      continue
    }
    if (state === 'valueOrClose' && ch === ']') {
      stack.pop()
      state = 'afterValue'
      i++
      continue
    }
    if (state === 'key' || state === 'keyOrClose') {
      if (ch !== '"') return fail('a property name in double quotes')
      const end = scanString(text, i)
      if (typeof end !== 'number') return end
      i = end
      state = 'colon'
      continue
    }
    // state is 'value' or 'valueOrClose'
    if (ch === undefined) return fail('a value')
    if (ch === '{' || ch === '[') {
      stack.push(ch)
      state = ch === '{' ? 'keyOrClose' : 'valueOrClose'
      i++
      continue
    }
    let end: number | JsonSyntaxProblem
    if (ch === '"') end = scanString(text, i)
    else if (ch === '-' || (ch >= '0' && ch <= '9')) end = scanNumber(text, i)
    else end = scanLiteral(text, i)
    if (typeof end !== 'number') return end
    i = end
    state = 'afterValue'
  }
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  const end = Math.min(position, text.length)
  for (let i = 0; i < end; i++) {
    if (text[i] === '\n') {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: end - lineStart + 1 }
}
