import type { CrossValidationResult } from '../../worker/protocol';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Each fold's score (the Train and Evaluate panels show the same table). */
export function FoldTable({ result }: { result: CrossValidationResult }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="cv-folds">
        <thead>
          <tr>
            <th>fold</th>
            <th className="num">trained on</th>
            <th className="num">scored on</th>
            <th className="num">accuracy</th>
            <th className="num">macro-F1</th>
            <th className="num">steps</th>
          </tr>
        </thead>
        <tbody>
          {result.perFold.map((f) => (
            <tr key={f.fold}>
              <td>
                {f.fold}
                {f.reason === 'diverged' ? ' (diverged)' : ''}
              </td>
              <td className="num">{f.trainRows} rows</td>
              <td className="num">{f.testRows} rows</td>
              <td className="num">
                {pct(f.accuracy)} ({f.correct}/{f.testRows})
              </td>
              <td className="num">{f.macroF1.toFixed(3)}</td>
              <td className="num">{f.steps}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
