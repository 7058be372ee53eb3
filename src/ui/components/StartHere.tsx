import { useStudio } from '../store';
import { SAMPLE_DATASETS, loadSample, sampleUrl } from '../samples';

/** Buttons that load a shipped sample dataset in one click (as if its file had been dropped). */
export function SampleButtons() {
  const parsing = useStudio((s) => s.dataStatus === 'parsing');
  return (
    <span className="row sample-buttons">
      {SAMPLE_DATASETS.map((sample) => (
        <button
          key={sample.id}
          type="button"
          className="button button-secondary"
          disabled={parsing}
          title={`${sample.description}; a held-out test file comes with it`}
          onClick={() => void loadSample(sample)}
          data-testid={`sample-${sample.id}`}
        >
          {sample.title}
        </button>
      ))}
    </span>
  );
}

/**
 * The newcomer's first screen (docs/USER_GUIDE.md, "Start here"): three plain steps, a sample
 * dataset one click away. Shown on the Model panel until data is loaded.
 */
export function StartHere() {
  const modelName = useStudio((s) => s.model?.name ?? null);
  const setActivePanel = useStudio((s) => s.setActivePanel);
  return (
    <section className="panel start-here" aria-labelledby="start-heading" data-testid="start-here">
      <h2 id="start-heading">Start here</h2>
      <p className="muted">
        Teach a model your own labels from a few dozen examples. Everything runs in this browser, on your GPU.
      </p>
      <ol className="start-steps">
        <li>
          <strong>Pick a model, or keep the one loaded</strong>
          {modelName ? ` (${modelName} is ready)` : ''}. Smaller, faster ones are under <em>Shipped with the studio</em>{' '}
          below.
        </li>
        <li>
          <strong>Add your data</strong>: on the{' '}
          <button type="button" className="link-button" onClick={() => setActivePanel('data')}>
            Data
          </button>{' '}
          tab, drop a CSV with a text column and a label column — or try a sample: <SampleButtons />
        </li>
        <li>
          <strong>Train</strong>: open the{' '}
          <button type="button" className="link-button" onClick={() => setActivePanel('train')}>
            Train
          </button>{' '}
          tab and press Start. Then try your model in the Playground and export it.
        </li>
      </ol>
      <p className="muted">
        Each sample comes with a held-out test file to check the trained model on rows it never saw (
        {SAMPLE_DATASETS.map((s, i) => (
          <span key={s.id}>
            {i > 0 ? ', ' : ''}
            <a href={sampleUrl(s.testFile)} download>
              {s.testFile}
            </a>
          </span>
        ))}
        ; sources and licences in <a href={sampleUrl('NOTICE')}>NOTICE</a>).
      </p>
    </section>
  );
}
