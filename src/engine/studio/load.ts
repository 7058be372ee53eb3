/**
 * Loading a model through the door, from any of the studio's sources: a folder on the studio's own
 * origin (the embedded default), a Hugging Face Hub repository (or a mirror with the Hub's URL
 * layout, cached in the browser), or the files of a dropped folder (or one dropped zip of such a folder).
 */
import {
  createFileListSource,
  createHubSource,
  createUrlFolderSource,
  createZipSource,
  hubFileUrl,
  hubRefKey,
  isSingleZip,
  loadCheckpointFiles,
  type CheckpointSource,
  type DownloadCache,
  type DroppedFile,
  type HubSource,
} from '../checkpoint';
import { FewShotModel } from './fewshot-model';

/** Where a model comes from. */
export type ModelSource =
  /** A folder of static files on the studio's own origin (the embedded default model). */
  | { kind: 'url'; baseUrl: string; name: string }
  /** A Hugging Face Hub repository (or a mirror with the same URL layout). */
  | { kind: 'hub'; repo: string; revision?: string; baseUrl?: string }
  /** Files of a dropped or picked folder, or one zip of such a folder (e.g. what Export wrote). */
  | {
      kind: 'files';
      files: DroppedFile[];
      name: string;
      /** Where the files came from, for the Model panel's Source (default: the folder's name). */
      description?: string;
    };

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number | null;
}

function checkpointSource(
  source: ModelSource,
  cache: DownloadCache | null,
): { checkpoint: CheckpointSource; name: string; description: string; hub?: HubSource } {
  switch (source.kind) {
    case 'url':
      return {
        checkpoint: createUrlFolderSource(source.baseUrl),
        name: source.name,
        description: `embedded (${source.baseUrl})`,
      };
    case 'hub': {
      const hub = createHubSource({
        repo: source.repo,
        revision: source.revision,
        baseUrl: source.baseUrl,
        cache: cache ?? undefined,
      });
      return {
        checkpoint: hub,
        hub,
        name: source.repo,
        description: `${source.baseUrl ?? 'https://huggingface.co'}/${source.repo}@${source.revision ?? 'main'}`,
      };
    }
    case 'files':
      // One zip arrives through the same drop and picker as a folder's files; it is told apart only here.
      if (isSingleZip(source.files)) {
        return {
          checkpoint: createZipSource(source.files[0]),
          name: source.name,
          description: `zip "${source.files[0].name}"`,
        };
      }
      return {
        checkpoint: createFileListSource(source.files),
        name: source.name,
        description: source.description ?? `folder "${source.name}"`,
      };
  }
}

/** Downloads (or reads) a checkpoint and builds the model; nothing is allocated when a file is bad. */
export async function loadModel(
  source: ModelSource,
  options: { cache?: DownloadCache | null; onProgress?: (p: LoadProgress) => void; seed?: number } = {},
): Promise<FewShotModel> {
  const { checkpoint, name, description, hub } = checkpointSource(source, options.cache ?? null);
  const files = await loadCheckpointFiles(checkpoint, { onProgress: options.onProgress });
  // A branch names whatever it points at today; the commit says exactly which files were loaded.
  const commit = hub?.resolvedCommit();
  const exact = commit && commit !== (source.kind === 'hub' ? (source.revision ?? 'main') : null);
  const model = FewShotModel.fromCheckpoint(files, {
    name,
    source: exact ? `${description} (commit ${commit.slice(0, 12)})` : description,
    seed: options.seed,
  });
  model.hubCommit = commit ?? null;
  return model;
}

/**
 * Which Hub repos are fully in the download cache at the commit `main` last resolved to (config.json plus
 * safetensors or pytorch_model.bin weights), so the picker can say "cached" before anything is fetched.
 */
export async function hubCacheStatus(
  repos: readonly string[],
  cache: DownloadCache | null,
  baseUrl?: string,
): Promise<Record<string, boolean>> {
  const status: Record<string, boolean> = {};
  for (const repo of repos) {
    if (!cache) {
      status[repo] = false;
      continue;
    }
    const ref = await cache.get(hubRefKey(repo, 'main', baseUrl)).catch(() => null);
    const revision = ref?.kind === 'ref' ? ref.commit : 'main';
    const has = async (file: string) =>
      (await cache.get(hubFileUrl(repo, file, { baseUrl, revision })).catch(() => null))?.kind === 'file';
    status[repo] = (await has('config.json')) && ((await has('model.safetensors')) || (await has('pytorch_model.bin')));
  }
  return status;
}
