import './styles/base.css'
import { getWorkbench } from './api/bridge'
import { createWorkbenchApp } from './app'

createWorkbenchApp(getWorkbench()).mount('#app')
