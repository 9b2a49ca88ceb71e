import { beforeEach } from 'vitest'

// The app remembers settings and the last run in localStorage; each test starts from nothing.
beforeEach(() => {
  localStorage.clear()
})
