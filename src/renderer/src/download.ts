/** How long a download's blob URL stays valid; the browser has started reading it by then. */
const REVOKE_AFTER_MS = 10_000

/**
 * Offers text as a file download: a Blob behind a temporary link. Works in a browser and in
 * Electron, where the download shows the system's save dialog.
 */
export function downloadText(fileName: string, text: string, mimeType: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mimeType }))
  const link = document.createElement('a')
  link.href = url
  link.download = fileName
  link.style.display = 'none'
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS)
}

/** A file name from a model name: letters, digits, dots, dashes and underscores. */
export function fileStem(name: string): string {
  const stem = name
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80)
  return stem || 'model'
}

/** Copies text to the clipboard; false when neither the Clipboard API nor the fallback could. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    // Electron denies the clipboard permission to this app; a selected textarea still copies.
    const area = document.createElement('textarea')
    area.value = text
    area.setAttribute('readonly', '')
    area.style.position = 'fixed'
    area.style.opacity = '0'
    document.body.append(area)
    area.select()
    let ok = false
    try {
      ok = document.execCommand('copy')
    } catch {
      ok = false
    }
    area.remove()
    return ok
  }
}
