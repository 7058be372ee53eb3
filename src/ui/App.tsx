import { BackendBadge } from './components/BackendBadge';
import { EngineBanner } from './components/EngineBanner';
import { EnginePanel } from './components/EnginePanel';

export function App() {
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
      <main className="app-main">
        <EnginePanel />
      </main>
    </div>
  );
}
