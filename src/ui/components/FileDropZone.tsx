import { useState } from 'react';

/** Data files the studio reads (CSV, TSV, JSONL). */
const DATA_FILE_ACCEPT = '.csv,.tsv,.jsonl,.txt,text/csv,text/tab-separated-values';

/**
 * A drop zone with a "choose a file" button for one data file (Evaluate's test file and its
 * predictions for a file): a drop or a pick hands the file to `onFile`; while `disabled` neither does.
 */
export function FileDropZone(props: {
  label: string;
  /** Next to the button: "or drop it here", or why nothing can be dropped yet. */
  hint: string;
  disabled: boolean;
  onFile: (file: File) => void;
  testId?: string;
  inputTestId: string;
}) {
  const [dragging, setDragging] = useState(false);
  const take = (file: File | undefined) => {
    if (file && !props.disabled) props.onFile(file);
  };
  return (
    <div
      className={`dropzone${dragging ? ' dropzone-active' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        take(e.dataTransfer.files[0]);
      }}
      data-testid={props.testId}
    >
      <label className={`button${props.disabled ? ' button-disabled' : ''}`}>
        {props.label}
        <input
          type="file"
          className="visually-hidden"
          accept={DATA_FILE_ACCEPT}
          disabled={props.disabled}
          data-testid={props.inputTestId}
          onChange={(e) => {
            take(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
      </label>
      <span className="muted">{props.hint}</span>
    </div>
  );
}
