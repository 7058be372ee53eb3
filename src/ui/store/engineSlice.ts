import type { StateCreator } from 'zustand';
import type { HelloResult } from '../../worker/protocol';
import type { SelfTestResult } from '../../engine/studio';

export type EngineStatus = 'starting' | 'ready' | 'crashed' | 'error';

/** Everything about the engine worker the UI shows: backend, health, self-test. */
export interface EngineSlice {
  engineStatus: EngineStatus;
  /** The raw `?backend=` value from the URL, null when absent. */
  requestedBackend: string | null;
  capability: HelloResult | null;
  /** Set while `engineStatus` is 'crashed' or 'error'. */
  engineError: { code: string; message: string } | null;
  selfTest: SelfTestResult | null;
  selfTestStatus: 'idle' | 'running' | 'done' | 'error';
  setEngine: (patch: Partial<Omit<EngineSlice, 'setEngine'>>) => void;
}

export const createEngineSlice: StateCreator<EngineSlice, [], [], EngineSlice> = (set) => ({
  engineStatus: 'starting',
  requestedBackend: null,
  capability: null,
  engineError: null,
  selfTest: null,
  selfTestStatus: 'idle',
  setEngine: (patch) => set(patch),
});
