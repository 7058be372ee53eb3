import { CONCEPTS, guideUrl, type ConceptId } from '../concepts';

/** The user-guide link of a concept. */
function GuideLink({ id }: { id: ConceptId }) {
  return (
    <a href={guideUrl(CONCEPTS[id].anchor)} target="_blank" rel="noreferrer" data-testid={`concept-link-${id}`}>
      more in the user guide
    </a>
  );
}

/**
 * One plain sentence about a prompt-learning concept, with a link to the user guide's section;
 * `inline` renders it inside a sentence (e.g. after a method's name).
 */
export function Concept({ id, inline = false }: { id: ConceptId; inline?: boolean }) {
  const content = (
    <>
      {CONCEPTS[id].text} (<GuideLink id={id} />)
    </>
  );
  return inline ? (
    <span data-testid={`concept-${id}`}>{content}</span>
  ) : (
    <p className="muted concept" data-testid={`concept-${id}`}>
      {content}
    </p>
  );
}

/** Why each default label word was chosen, when it is not simply the label's name. */
export function LabelWordNotes({ notes }: { notes: Record<string, string> | undefined }) {
  const entries = Object.entries(notes ?? {});
  if (entries.length === 0) return null;
  return (
    <ul className="compact muted" data-testid="label-word-notes">
      {entries.map(([label, note]) => (
        <li key={label}>
          <strong>{label}</strong>: {note}
        </li>
      ))}
    </ul>
  );
}
