import type { StateCreator } from 'zustand';

export type PanelId = 'model' | 'data' | 'train' | 'evaluate' | 'playground' | 'engine';

/** Navigation state of the shell. */
export interface LayoutSlice {
  activePanel: PanelId;
  setActivePanel: (panel: PanelId) => void;
}

export const createLayoutSlice: StateCreator<LayoutSlice, [], [], LayoutSlice> = (set) => ({
  activePanel: 'engine',
  setActivePanel: (activePanel) => set({ activePanel }),
});
