/** Chart colours (hex, so a translucent variant can be derived); match the CSS theme. */
export const PALETTE = {
  train: '#4f46e5',
  validation: '#d97706',
  accuracyTrain: '#059669',
  accuracyValidation: '#db2777',
  grid: '#e5e7eb',
  text: '#6b7280'
} as const
