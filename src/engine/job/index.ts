/** Training jobs: job.json and the bundle that runs it with Hugging Face transformers (docs/ARCHITECTURE.md, "Training jobs"). */
export {
  JOB_FORMAT,
  JOB_KEPT_LOSSES,
  JOB_VERSION,
  STUDIO_VERSION,
  jobPrompt,
  jobTrainingSetup,
  makeJobSpec,
  parseJobSpec,
  type JobModel,
  type JobSpec,
  type MakeJobSpecOptions,
} from './spec';
export { folderBytes, jobBundleFiles, jobReadme, rowsToCsv, type JobBundleInput } from './bundle';
export { TRAIN_PY } from './train-py';
