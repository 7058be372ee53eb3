/**
 * The studio's one zustand store, built from slices. Components read it with `useStudio`;
 * worker events update it through module-level actions (./actions.ts), no hooks needed.
 */
import { create } from 'zustand';
import { createEngineSlice, type EngineSlice } from './engineSlice';
import { createLayoutSlice, type LayoutSlice } from './layoutSlice';

export type StudioState = EngineSlice & LayoutSlice;

/** Builds a fresh store; tests create their own so they never share state. */
export function createStudioStore() {
  return create<StudioState>()((...args) => ({
    ...createEngineSlice(...args),
    ...createLayoutSlice(...args),
  }));
}

export const useStudio = createStudioStore();
