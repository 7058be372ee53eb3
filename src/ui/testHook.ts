/**
 * `window.__studio`: a typed hook for e2e tests (dev and test builds only) to read store state
 * instead of scraping pixels, and to trigger faults that cannot be caused from the page.
 */
import { useStudio, type StudioState } from './store';
import { crashEngineForTest, restartEngine, runSelfTest } from './store/actions';
import { failNextStorageWriteForTest, loseGpuDeviceForTest } from './store/projectActions';

export interface StudioTestHook {
  getState: () => StudioState;
  /** Calls `listener` on every store change (e.g. to record the sequence of training states). */
  subscribe: (listener: (state: StudioState) => void) => () => void;
  runSelfTest: () => Promise<void>;
  restartEngine: () => Promise<void>;
  crashEngine: (message: string) => void;
  /** The next write to browser storage fails as a full quota would. */
  failNextStorageWrite: () => Promise<void>;
  /** Destroys the worker's GPU device mid-whatever; resolves false when the backend has none. */
  loseGpuDevice: () => Promise<boolean>;
}

declare global {
  interface Window {
    __studio?: StudioTestHook;
  }
}

export function installTestHook(): void {
  window.__studio = {
    getState: () => useStudio.getState(),
    subscribe: (listener) => useStudio.subscribe(listener),
    runSelfTest,
    restartEngine,
    crashEngine: crashEngineForTest,
    failNextStorageWrite: failNextStorageWriteForTest,
    loseGpuDevice: loseGpuDeviceForTest,
  };
}
