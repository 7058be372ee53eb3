/**
 * The studio's one zustand store, built from slices. Components read it with `useStudio`;
 * worker events update it through module-level actions (./actions.ts), no hooks needed.
 */
import { create } from 'zustand';
import { createDataSlice, type DataSlice } from './dataSlice';
import { createEngineSlice, type EngineSlice } from './engineSlice';
import { createEvaluateSlice, type EvaluateSlice } from './evaluateSlice';
import { createLayoutSlice, type LayoutSlice } from './layoutSlice';
import { createModelSlice, type ModelSlice } from './modelSlice';
import { createPlaygroundSlice, type PlaygroundSlice } from './playgroundSlice';
import { createProjectSlice, type ProjectSlice } from './projectSlice';
import { createTrainingSlice, type TrainingSlice } from './trainingSlice';

export type StudioState = EngineSlice &
  LayoutSlice &
  ModelSlice &
  DataSlice &
  TrainingSlice &
  EvaluateSlice &
  PlaygroundSlice &
  ProjectSlice;

/** Builds a fresh store; tests create their own so they never share state. */
export function createStudioStore() {
  return create<StudioState>()((...args) => ({
    ...createEngineSlice(...args),
    ...createLayoutSlice(...args),
    ...createModelSlice(...args),
    ...createDataSlice(...args),
    ...createTrainingSlice(...args),
    ...createEvaluateSlice(...args),
    ...createPlaygroundSlice(...args),
    ...createProjectSlice(...args),
  }));
}

export const useStudio = createStudioStore();
