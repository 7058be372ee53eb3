import { useStudio } from '../store';
import type { FineTunePlan } from '../../worker/protocol';

/** R and C for SetFit, "auto" showing what the engine chose (the draft plan). */
export function SetFitFields() {
  const iterations = useStudio((s) => s.setfitIterations);
  const C = useStudio((s) => s.setfitC);
  const draft = useStudio((s) => s.draftPlan?.setfit ?? null);
  const sentenceModel = useStudio((s) => s.model?.sentenceTransformers ?? null);
  const disabled = useStudio((s) => s.trainingState !== 'idle');
  const setTraining = useStudio((s) => s.setTraining);
  const numberOrNull = (value: string) => (value === '' ? null : Number(value));
  return (
    <div className="stack" data-testid="setfit-fields">
      <p className="muted">
        Two stages: the encoder first learns from pairs of your examples which texts belong together (same label: pull
        closer, different labels: push apart), then a simple classifier (logistic regression) is fitted on the resulting
        sentence embeddings.{' '}
        {sentenceModel
          ? `This model is a sentence-embedding model (${sentenceModel.description}): what SetFit is made for.`
          : 'Works with any BERT model; best with a sentence-embedding model such as sentence-transformers/all-MiniLM-L6-v2 (Model tab → Hugging Face Hub).'}
      </p>
      <div className="fields">
        <label className="field">
          <span>Pair rounds (R)</span>
          <input
            type="number"
            min={1}
            step={1}
            value={iterations ?? ''}
            placeholder={draft ? `auto: ${draft.iterations}` : 'auto'}
            disabled={disabled}
            data-testid="setting-setfitIterations"
            onChange={(e) => setTraining({ setfitIterations: numberOrNull(e.target.value) })}
          />
        </label>
        <label className="field">
          <span>Head C</span>
          <input
            type="number"
            min={0}
            step={0.1}
            value={C ?? ''}
            placeholder={draft ? `auto: ${draft.C}` : 'auto'}
            disabled={disabled}
            data-testid="setting-setfitC"
            onChange={(e) => setTraining({ setfitC: numberOrNull(e.target.value) })}
          />
        </label>
      </div>
    </div>
  );
}

/** SetFit's lines of a plan: the pairs, the pooling and the head. */
export function SetFitPlanLines({ plan }: { plan: FineTunePlan }) {
  const part = plan.setfit;
  if (!part) return null;
  return (
    <>
      <li data-testid="train-plan-setfit">
        SetFit: {part.pairs} pairs per epoch (R = {part.iterations}: each round gives every example one same-label and
        one other-label pair), batch {plan.batchSize} pairs · {part.pooling} pooling
        {part.normalize ? ', normalized' : ''} · head: logistic regression, C = {part.C}
      </li>
      {part.warnings.map((w) => (
        <li key={w} className="warn">
          {w}
        </li>
      ))}
    </>
  );
}

/**
 * SetFit's two stages as they go: the body (the pair loss below) and the head. During the body stage a
 * head is fitted at each evaluation to score the dev rows; the head the model keeps is fitted at the end.
 */
export function SetFitStages() {
  const plan = useStudio((s) => s.plan);
  const state = useStudio((s) => s.trainingState);
  const summary = useStudio((s) => s.summary);
  const progress = useStudio((s) => s.progress);
  const head = useStudio((s) => s.setfitHeadResult);
  if (!plan?.setfit) return null;
  const bodyStatus = summary ? 'done' : state === 'idle' ? 'pending' : 'running';
  const headStatus = head ? 'done' : summary ? 'none' : 'pending';
  return (
    <ol className="compact" data-testid="setfit-stages">
      <li data-stage="body" data-status={bodyStatus}>
        <strong>1. Body</strong>: contrastive training on pairs (the pair loss below)
        {bodyStatus === 'running' && progress ? ` — step ${progress.step} of ${progress.totalSteps}` : ''}
        {bodyStatus === 'done' ? ` — done, ${summary!.steps} steps` : ''}
      </li>
      <li data-stage="head" data-status={headStatus}>
        <strong>2. Head</strong>: logistic regression on the sentence embeddings
        {headStatus === 'done'
          ? ` — fitted on ${plan.trainCount} examples, ${head!.converged ? 'converged' : 'did not fully converge'} after ${head!.iterations} L-BFGS iterations`
          : headStatus === 'none'
            ? ' — not fitted (the run did not finish cleanly)'
            : plan.devCount > 0
              ? ' — fitted at the end; meanwhile one is fitted at each evaluation to score the dev rows'
              : ' — fitted at the end'}
      </li>
    </ol>
  );
}
