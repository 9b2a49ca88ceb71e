import { onBeforeUnmount, onMounted, watch, type Ref } from 'vue'
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LogarithmicScale,
  Tooltip
} from 'chart.js'

/** One group of bars. */
export interface BarSeries {
  label: string
  color: string
  values: number[]
}

/** What a bar chart shows: category labels and one or more series. */
export interface BarData {
  labels: string[]
  series: BarSeries[]
}

/**
 * A bar chart on `canvas` that follows `data()`; where the canvas has no 2D context (tests),
 * nothing is drawn and nothing throws.
 */
export function useBarChart(
  canvas: Ref<HTMLCanvasElement | null>,
  data: () => BarData,
  options: { yTitle: string; xTitle?: string; legend?: boolean; logarithmic?: boolean }
): void {
  let chart: Chart<'bar', number[], string> | null = null

  const draw = (d: BarData): void => {
    if (!chart) return
    chart.data.labels = d.labels.slice()
    chart.data.datasets = d.series.map((s) => ({
      label: s.label,
      data: s.values.slice(),
      backgroundColor: s.color,
      borderWidth: 0,
      categoryPercentage: 0.8,
      barPercentage: 0.95
    }))
    chart.update('none')
  }

  onMounted(() => {
    let ctx: CanvasRenderingContext2D | null = null
    try {
      ctx = canvas.value?.getContext('2d') ?? null
    } catch {
      ctx = null
    }
    if (!ctx) return
    Chart.register(
      BarController,
      BarElement,
      CategoryScale,
      LinearScale,
      LogarithmicScale,
      Legend,
      Tooltip
    )
    chart = new Chart<'bar', number[], string>(ctx, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: {
            title: { display: Boolean(options.xTitle), text: options.xTitle ?? '' },
            grid: { display: false }
          },
          y: {
            type: options.logarithmic ? 'logarithmic' : 'linear',
            beginAtZero: !options.logarithmic,
            title: { display: true, text: options.yTitle }
          }
        },
        plugins: {
          legend: { display: options.legend ?? true, position: 'bottom' },
          tooltip: { animation: false }
        }
      }
    })
    draw(data())
  })

  watch(data, draw)

  onBeforeUnmount(() => {
    chart?.destroy()
    chart = null
  })
}
