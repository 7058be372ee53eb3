import type { StateCreator } from 'zustand';

export type PanelId = 'model' | 'data' | 'train' | 'evaluate' | 'playground';

export const PANELS: { id: PanelId; label: string }[] = [
  { id: 'model', label: 'Model' },
  { id: 'data', label: 'Data' },
  { id: 'train', label: 'Train' },
  { id: 'evaluate', label: 'Evaluate' },
  { id: 'playground', label: 'Playground' },
];

/** Navigation state of the shell. */
export interface LayoutSlice {
  activePanel: PanelId;
  setActivePanel: (panel: PanelId) => void;
}

export const createLayoutSlice: StateCreator<LayoutSlice, [], [], LayoutSlice> = (set) => ({
  activePanel: 'model',
  setActivePanel: (activePanel) => set({ activePanel }),
});
