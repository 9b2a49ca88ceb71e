import { onBeforeUnmount, onMounted, watch, type Ref } from 'vue'
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
  type ChartOptions
} from 'chart.js'
import type { Point } from './series'

/** One line of a chart. */
export interface SeriesStyle {
  label: string
  color: string
  dashed?: boolean
  /** Thin, translucent line for noisy raw data under a smoothed one. */
  faint?: boolean
  yAxisID?: string
  /** Draw a dot at every point (few points, e.g. one per epoch). */
  points?: boolean
}

function canvasContext(canvas: HTMLCanvasElement): CanvasRenderingContext2D | null {
  try {
    return typeof canvas.getContext === 'function' ? canvas.getContext('2d') : null
  } catch {
    return null
  }
}

function toDataset(style: SeriesStyle): ChartDataset<'line', Point[]> {
  return {
    label: style.label,
    data: [],
    borderColor: style.color,
    backgroundColor: style.color,
    borderWidth: style.faint ? 1 : 2,
    borderDash: style.dashed ? [6, 4] : [],
    pointRadius: style.points ? 3 : 0,
    pointHoverRadius: style.points ? 5 : 3,
    tension: 0,
    yAxisID: style.yAxisID ?? 'y',
    ...(style.faint ? { borderColor: `${style.color}66` } : {})
  }
}

/**
 * A live line chart on `canvas`: lines follow `data()` and redraw without animation. Where the
 * canvas has no 2D context (tests, very old GPUs), nothing is drawn and nothing throws.
 */
export function useLineChart(
  canvas: Ref<HTMLCanvasElement | null>,
  series: SeriesStyle[],
  scales: ChartOptions<'line'>['scales'],
  data: () => Point[][],
  /** The x axis's end (e.g. the run's last epoch), so a curve shows how far along it is. */
  xMax?: () => number | undefined
): void {
  let chart: Chart<'line', Point[]> | null = null

  onMounted(() => {
    const el = canvas.value
    const ctx = el ? canvasContext(el) : null
    if (!ctx) return
    Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip)
    chart = new Chart<'line', Point[]>(ctx, {
      type: 'line',
      data: { datasets: series.map(toDataset) },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales,
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 14, boxHeight: 2 } },
          tooltip: { animation: false }
        }
      }
    })
    draw(data())
  })

  function draw(lines: Point[][]): void {
    if (!chart) return
    const x = chart.options.scales?.x
    if (x && xMax) x.max = xMax()
    lines.forEach((points, i) => {
      const dataset = chart?.data.datasets[i]
      // Chart.js patches the arrays it is given; hand it copies, never the store's own.
      if (dataset) dataset.data = points.slice()
    })
    chart.update('none')
  }

  watch(data, draw)
  if (xMax) watch(xMax, () => draw(data()))

  onBeforeUnmount(() => {
    chart?.destroy()
    chart = null
  })
}
