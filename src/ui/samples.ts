/**
 * Sample datasets shipped with the studio under public/samples/ (sources and licences in
 * public/samples/NOTICE). Loading one goes through the same path as a dropped file.
 */
import { loadDatasetFile } from './store/actions';
import { useStudio } from './store';

export interface SampleDataset {
  id: string;
  /** Training file under public/samples/. */
  file: string;
  /** Held-out labeled file under public/samples/, never in the training file. */
  testFile: string;
  title: string;
  /** What it is, in a few words. */
  description: string;
}

export const SAMPLE_DATASETS: readonly SampleDataset[] = [
  {
    id: 'reviews',
    file: 'reviews.csv',
    testFile: 'reviews-test.csv',
    title: 'Reviews (sentiment)',
    description: '32 short reviews, positive or negative',
  },
  {
    id: 'sms-spam',
    file: 'sms-spam.csv',
    testFile: 'sms-spam-test.csv',
    title: 'SMS spam',
    description: '32 text messages, ham or spam',
  },
  {
    id: 'banking-intents',
    file: 'banking-intents.csv',
    testFile: 'banking-intents-test.csv',
    title: 'Banking questions (intents)',
    description: '64 customer questions, 4 intents',
  },
];

/** The address of a file under public/samples/, on the studio's own origin. */
export function sampleUrl(file: string): string {
  return new URL(`samples/${file}`, window.location.href).href;
}

/**
 * Loads a sample into the Data panel exactly as if its file had been dropped there, and shows the
 * Data panel. Returns false (with the error in the Data panel) when it could not be loaded.
 */
export async function loadSample(sample: SampleDataset): Promise<boolean> {
  const { setData, setActivePanel } = useStudio.getState();
  setActivePanel('data');
  let bytes: Uint8Array;
  try {
    const response = await fetch(sampleUrl(sample.file));
    if (!response.ok) throw new Error(`the studio's server answered ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    setData({
      dataError: {
        code: 'SAMPLE_UNAVAILABLE',
        message: `The sample ${sample.file} could not be fetched (${error instanceof Error ? error.message : String(error)}).`,
        fileName: sample.file,
      },
    });
    return false;
  }
  return loadDatasetFile(sample.file, bytes);
}
