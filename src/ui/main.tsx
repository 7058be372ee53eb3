import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { startEngine } from './store/actions';
import { installLeaveWarning } from './store/projectActions';
import { installTestHook } from './testHook';
import './styles.css';

// The test hook ships in dev and test builds only (`vite build --mode test`), never in production.
if (import.meta.env.MODE !== 'production') installTestHook();

installLeaveWarning();

const requestedBackend = new URLSearchParams(window.location.search).get('backend');
void startEngine(requestedBackend);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
