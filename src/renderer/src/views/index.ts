import type { Component } from 'vue'
import ModelView from './ModelView.vue'
import TrainView from './TrainView.vue'
import DataView from './DataView.vue'
import RunsView from './RunsView.vue'
import InsideView from './InsideView.vue'

/** One tab of the workbench. Each view registers itself here with one line. */
export interface ViewEntry {
  id: string
  label: string
  component: Component
}

/** The workbench's views, in tab order. */
export const VIEWS: ViewEntry[] = [
  { id: 'train', label: 'Train', component: TrainView },
  { id: 'data', label: 'Data', component: DataView },
  { id: 'model', label: 'Model', component: ModelView },
  { id: 'runs', label: 'Runs', component: RunsView },
  { id: 'inside', label: 'Inside', component: InsideView }
]
