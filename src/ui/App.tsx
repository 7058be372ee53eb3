import { useRef, type KeyboardEvent } from 'react';
import { BackendBadge } from './components/BackendBadge';
import { EngineBanner } from './components/EngineBanner';
import { DataPanel } from './panels/DataPanel';
import { EvaluatePanel } from './panels/EvaluatePanel';
import { ModelPanel } from './panels/ModelPanel';
import { PlaygroundPanel } from './panels/PlaygroundPanel';
import { TrainPanel } from './panels/TrainPanel';
import { useStudio } from './store';
import { PANELS, type PanelId } from './store/layoutSlice';

const PANEL_COMPONENTS: Record<PanelId, () => React.JSX.Element> = {
  model: ModelPanel,
  data: DataPanel,
  train: TrainPanel,
  evaluate: EvaluatePanel,
  playground: PlaygroundPanel,
};

function Tabs() {
  const active = useStudio((s) => s.activePanel);
  const setActive = useStudio((s) => s.setActivePanel);
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKeyDown = (event: KeyboardEvent, index: number) => {
    let next = -1;
    if (event.key === 'ArrowRight' || event.key === 'ArrowDown') next = (index + 1) % PANELS.length;
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') next = (index - 1 + PANELS.length) % PANELS.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = PANELS.length - 1;
    if (next < 0) return;
    event.preventDefault();
    setActive(PANELS[next].id);
    refs.current[next]?.focus();
  };
  return (
    <nav className="tabs" role="tablist" aria-label="Studio sections" aria-orientation="vertical">
      {PANELS.map((p, i) => (
        <button
          key={p.id}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          role="tab"
          id={`tab-${p.id}`}
          aria-selected={active === p.id}
          aria-controls={`panel-${p.id}`}
          tabIndex={active === p.id ? 0 : -1}
          className="tab"
          data-testid={`tab-${p.id}`}
          onClick={() => setActive(p.id)}
          onKeyDown={(e) => onKeyDown(e, i)}
        >
          {p.label}
        </button>
      ))}
    </nav>
  );
}

export function App() {
  const active = useStudio((s) => s.activePanel);
  const Panel = PANEL_COMPONENTS[active];
  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>
          <h1>FewShot Studio</h1>
          <span className="tagline">few labels · your GPU · nothing leaves this page</span>
        </div>
        <BackendBadge />
      </header>
      <EngineBanner />
      <div className="studio">
        <Tabs />
        <main
          className="app-main"
          role="tabpanel"
          id={`panel-${active}`}
          aria-labelledby={`tab-${active}`}
          data-testid={`panel-${active}`}
        >
          <Panel />
        </main>
      </div>
    </div>
  );
}
