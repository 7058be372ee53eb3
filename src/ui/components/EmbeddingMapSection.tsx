/**
 * The Data panel's map (docs/ARCHITECTURE.md, "The embedding map"): every row's embedding laid out
 * by PCA or UMAP, one dot per row coloured by label, drawn on a canvas in one pass (20,000 SVG nodes
 * would freeze the page). Hover shows a row; click selects it.
 */
import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { useStudio } from '../store';
import { drawEmbeddingMap } from '../store/actions';
import { MAX_MAP_ROWS, UMAP_MAX_ROWS, mapLayoutFor } from '../store/helpers';
import type { EmbeddingMapMethod } from '../../engine/studio';
import { drawnWithText, weightsChangedSince } from '../store/mapView';
import { PointGrid, UNLABELED_COLOR, fitPoints, labelColor } from './mapGeometry';

/** Canvas size in CSS pixels (the backing store is this times the device pixel ratio). */
const MAP_WIDTH = 720;
const MAP_HEIGHT = 420;
/** Margin around the points, in pixels, so edge dots are whole. */
const MAP_PAD = 8;
/** Side of a dot in pixels (odd: a dot has a centre pixel of exactly its colour). */
const DOT = 3;
/** Grid cell of the hover index and the pointer's reach, in pixels. */
const HIT_CELL = 8;
const HIT_RADIUS = 6;
/** Characters of a row's text in the tooltip. */
const TOOLTIP_CHARS = 140;

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const percent = (x: number) => `${(100 * x).toFixed(1)} %`;

/** The layouts, as the picker and the button name them. */
const METHOD_NAMES: Record<EmbeddingMapMethod, string> = { pca: 'PCA', umap: 'UMAP' };

export function EmbeddingMapSection() {
  const dataset = useStudio((s) => s.dataset);
  const validation = useStudio((s) => s.validation);
  const model = useStudio((s) => s.model);
  const map = useStudio((s) => s.map);
  const status = useStudio((s) => s.mapStatus);
  const progress = useStudio((s) => s.mapProgress);
  const chosenMethod = useStudio((s) => s.mapMethod);
  const error = useStudio((s) => s.mapError);
  const selected = useStudio((s) => s.mapSelected);
  const weightsAtBase = useStudio((s) => s.weightsAtBase);
  const runId = useStudio((s) => s.runId);
  const runs = useStudio((s) => s.runs);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<{ index: number; x: number; y: number } | null>(null);

  const labels = useMemo(() => validation?.labels.map((l) => l.label) ?? [], [validation]);
  const colorOf = useMemo(() => new Map(labels.map((l, i) => [l, labelColor(i)])), [labels]);
  const examples = map?.dataset.examples ?? [];
  // Canvas positions [N, 2] and the hover index, once per map.
  const geometry = useMemo(() => {
    if (!map) return null;
    const positions = fitPoints(map.result.points, MAP_WIDTH, MAP_HEIGHT, MAP_PAD);
    return { positions, grid: new PointGrid(positions, MAP_WIDTH, HIT_CELL) };
  }, [map]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !geometry || !map) return;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(MAP_WIDTH * ratio);
    canvas.height = Math.round(MAP_HEIGHT * ratio);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, MAP_WIDTH, MAP_HEIGHT);
    const { positions } = geometry;
    const rows = map.dataset.examples;
    const dot = (i: number, color: string) => {
      ctx.fillStyle = color;
      ctx.fillRect(Math.round(positions[2 * i]) - (DOT >> 1), Math.round(positions[2 * i + 1]) - (DOT >> 1), DOT, DOT);
    };
    // Unlabeled rows underneath; labeled rows in file order, so no class always hides another.
    rows.forEach((e, i) => e.label === null && dot(i, UNLABELED_COLOR));
    rows.forEach((e, i) => e.label !== null && dot(i, colorOf.get(e.label) ?? UNLABELED_COLOR));
    if (selected !== null && selected < rows.length) {
      ctx.lineWidth = 2;
      ctx.strokeStyle = getComputedStyle(canvas).color || '#000';
      ctx.beginPath();
      ctx.arc(positions[2 * selected], positions[2 * selected + 1], 6, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }, [geometry, map, colorOf, selected]);

  if (!dataset) return null;
  const n = dataset.examples.length;
  // Over UMAP_MAX_ROWS the UMAP option is disabled, so the picker shows (and Draw uses) PCA.
  const method = mapLayoutFor(chosenMethod, n);
  const pointerAt = (event: MouseEvent<HTMLCanvasElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    const x = ((event.clientX - rect.left) * MAP_WIDTH) / rect.width;
    const y = ((event.clientY - rect.top) * MAP_HEIGHT) / rect.height;
    const index = geometry?.grid.nearest(x, y, HIT_RADIUS) ?? null;
    return { index, left: event.clientX - rect.left, top: event.clientY - rect.top };
  };
  const counts = validation?.labels ?? [];
  const unlabeled = examples.filter((e) => e.label === null).length;
  const weightsChanged = map !== null && weightsChangedSince(map, weightsAtBase, runId);
  const methodChanged = map !== null && map.result.method !== method;
  const umapTooMany = n > UMAP_MAX_ROWS;
  const drawnWith = map ? drawnWithText(map, runs) : '';
  const summary = map
    ? `Map of ${map.result.rows} rows in two dimensions, coloured by label: ${counts
        .map((l) => `${l.label} ${l.count}`)
        .join(', ')}${unlabeled ? `, unlabeled ${unlabeled}` : ''}. ${drawnWith}`
    : '';
  const selectedRow = map && selected !== null ? map.dataset.examples[selected] : null;
  const hovered = map && hover ? map.dataset.examples[hover.index] : null;

  return (
    <section className="panel" aria-labelledby="map-heading" data-testid="embedding-map" data-status={status}>
      <h3 id="map-heading">Map</h3>
      <p className="muted">
        Each dot is a row, placed by the model&apos;s embedding of its text. Points close together are texts the model
        sees as similar. Well-separated colours mean the classes are easy for this model to tell apart; mixed colours
        mean they are hard (or the labels disagree).
      </p>
      <div className="row">
        <label>
          Layout{' '}
          <select
            value={method}
            disabled={status === 'running'}
            onChange={(event) => useStudio.getState().setData({ mapMethod: event.target.value as EmbeddingMapMethod })}
            data-testid="map-method"
          >
            <option value="pca">PCA: fast; the axes hold the most variance</option>
            <option value="umap" disabled={umapTooMany}>
              UMAP: keeps similar texts together; slower
              {umapTooMany ? ` (at most ${UMAP_MAX_ROWS.toLocaleString('en-US')} rows)` : ''}
            </option>
          </select>
        </label>
        {(!map || weightsChanged || methodChanged) && (
          <button
            type="button"
            className="button"
            disabled={status === 'running' || !model}
            onClick={() => void drawEmbeddingMap()}
            data-testid="map-draw"
          >
            {!map
              ? 'Draw the map'
              : weightsChanged
                ? weightsAtBase
                  ? 'Draw again with the base model'
                  : 'Draw again with the trained model'
                : `Draw again with ${METHOD_NAMES[method]}`}
          </button>
        )}
        {!map && status !== 'running' && (
          <span className="muted">
            It runs the model over all {n.toLocaleString('en-US')} rows
            {n > MAX_MAP_ROWS ? ` (at most ${MAX_MAP_ROWS.toLocaleString('en-US')} can be drawn)` : ''}.
          </span>
        )}
        {status === 'running' && progress && (
          <span className="muted" role="status" data-testid="map-progress">
            {progress.phase === 'layout'
              ? 'Laying out with UMAP… epoch '
              : progress.phase === 'neighbors'
                ? 'Finding each row’s nearest neighbours… row '
                : 'Embedding rows… '}
            {progress.done.toLocaleString('en-US')} of {progress.total.toLocaleString('en-US')}
          </span>
        )}
      </div>
      {error && (
        <p className="error" role="alert" data-testid="map-error">
          {error.message}
        </p>
      )}
      {map && (
        <>
          <p className="muted" data-testid="map-drawn-with">
            {drawnWith}
          </p>
          <div className="map-wrap">
            <canvas
              ref={canvasRef}
              className="map-canvas"
              style={{ width: '100%', maxWidth: MAP_WIDTH, aspectRatio: `${MAP_WIDTH} / ${MAP_HEIGHT}` }}
              role="img"
              aria-label={summary}
              data-testid="map-canvas"
              data-points={map.result.rows}
              data-label-colors={JSON.stringify(Object.fromEntries(colorOf))}
              data-unlabeled-color={UNLABELED_COLOR}
              onMouseMove={(event) => {
                const { index, left, top } = pointerAt(event);
                setHover(index === null ? null : { index, x: left, y: top });
              }}
              onMouseLeave={() => setHover(null)}
              onClick={(event) => {
                const { index } = pointerAt(event);
                if (index !== null) useStudio.getState().setData({ mapSelected: index });
              }}
            />
            {hover && hovered && (
              <div className="map-tooltip" style={{ left: hover.x + 12, top: hover.y + 12 }} data-testid="map-tooltip">
                <strong>Row {hovered.row}</strong> · {hovered.label ?? 'unlabeled'}
                <br />
                {truncate(hovered.text, TOOLTIP_CHARS)}
              </div>
            )}
          </div>
          <ul className="map-legend" data-testid="map-legend">
            {counts.map((l) => (
              <li key={l.label}>
                <span className="swatch" style={{ background: colorOf.get(l.label) }} aria-hidden="true" />
                {l.label} <span className="muted">{l.count.toLocaleString('en-US')}</span>
              </li>
            ))}
            {unlabeled > 0 && (
              <li>
                <span className="swatch" style={{ background: UNLABELED_COLOR }} aria-hidden="true" />
                unlabeled <span className="muted">{unlabeled.toLocaleString('en-US')}</span>
              </li>
            )}
          </ul>
          <p className="muted small" data-testid="map-explained">
            {map.result.explained
              ? `PCA: the horizontal axis holds ${percent(map.result.explained[0])} of the variance of the embeddings, the vertical ${percent(map.result.explained[1])}.`
              : `UMAP (${map.result.neighbors ?? 15} neighbours per text): each text sits near the texts the model finds most alike. Distances between far-apart groups, and the axes, carry no meaning.`}
          </p>
          {selectedRow && (
            <div className="notice" data-testid="map-selected">
              <strong>Row {selectedRow.row}</strong> · label {selectedRow.label ?? <span className="muted">none</span>}
              <p className="text-cell">{selectedRow.text}</p>
              {selectedRow.textPair !== undefined && <p className="text-cell">{selectedRow.textPair}</p>}
            </div>
          )}
        </>
      )}
    </section>
  );
}
