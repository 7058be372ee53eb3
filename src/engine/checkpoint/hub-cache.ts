/**
 * The download cache seen as Hub models: list what is cached (repo, commit, size), delete one model, clear all.
 * Keys are those the Hub source writes (`hub-source.ts`): files at `{base}/{repo}/resolve/{commit}/{file}`, refs at
 * `{base}/{repo}/resolve/{branch}`. Only keys under the given base URL are read; the base can carry a path, so a
 * key can be split into repo and revision only once the base is known.
 */
import type { CachedFile, DownloadCache } from './cache';
import { DEFAULT_HUB_BASE_URL } from './hub-source';

/** One model (repo at one commit) in the download cache. */
export interface CachedHubModel {
  repo: string;
  /** The commit its files come from (the revision as given, when the server named no commit). */
  commit: string;
  /** Branches or tags whose last check pointed at this commit, e.g. `['main']`. */
  refs: string[];
  /** Names of the cached files (remembered 404s not included). */
  files: string[];
  /** Total size of the cached files in bytes. */
  bytes: number;
}

interface ParsedKey {
  repo: string;
  revision: string;
  /** Null for a ref entry. */
  file: string | null;
}

const decodePath = (path: string) => path.split('/').map(decodeURIComponent).join('/');

/** Splits a cache key under `base` into repo, revision and file; null for keys this module did not write. */
function parseKey(key: string, base: string): ParsedKey | null {
  if (!key.startsWith(`${base}/`)) return null;
  const rest = key.slice(base.length + 1);
  const at = rest.indexOf('/resolve/');
  if (at <= 0) return null;
  const [revision, ...file] = rest.slice(at + '/resolve/'.length).split('/');
  if (!revision) return null;
  try {
    return {
      repo: decodePath(rest.slice(0, at)),
      revision: decodeURIComponent(revision),
      file: file.length === 0 ? null : decodePath(file.join('/')),
    };
  } catch {
    return null; // not percent-encoded by us
  }
}

const trimBase = (baseUrl: string | undefined) => (baseUrl ?? DEFAULT_HUB_BASE_URL).replace(/\/+$/, '');

/** Cached Hub models under `baseUrl`, largest first. A failing cache lists nothing. */
export async function listCachedHubModels(cache: DownloadCache | null, baseUrl?: string): Promise<CachedHubModel[]> {
  if (!cache) return [];
  const base = trimBase(baseUrl);
  const entries = await cache.list().catch(() => []);
  const models = new Map<string, CachedHubModel>();
  const model = (repo: string, commit: string) => {
    const id = `${repo}\n${commit}`;
    let found = models.get(id);
    if (!found) models.set(id, (found = { repo, commit, refs: [], files: [], bytes: 0 }));
    return found;
  };
  const refs: { repo: string; revision: string; key: string }[] = [];
  for (const entry of entries) {
    const parsed = parseKey(entry.key, base);
    if (parsed === null) continue;
    if (entry.kind === 'ref') {
      refs.push({ repo: parsed.repo, revision: parsed.revision, key: entry.key });
    } else if (entry.kind === 'file' && parsed.file !== null) {
      const target = model(parsed.repo, parsed.revision);
      target.files.push(parsed.file);
      target.bytes += entry.bytes;
    }
  }
  // A ref names its commit only in its value; it joins a model only when that model still has files.
  for (const ref of refs) {
    const value = await cache.get(ref.key).catch(() => null);
    const target = value?.kind === 'ref' ? models.get(`${ref.repo}\n${value.commit}`) : undefined;
    target?.refs.push(ref.revision);
  }
  const list = [...models.values()];
  for (const m of list) {
    m.files.sort();
    m.refs.sort();
  }
  return list.sort((a, b) => b.bytes - a.bytes || a.repo.localeCompare(b.repo));
}

/**
 * Deletes a cached model: every file and remembered 404 of `repo` at `commit` (all commits when omitted), and the
 * refs that pointed there, so that the next load asks the Hub again. Returns the number of entries removed.
 */
export async function deleteCachedHubModel(
  cache: DownloadCache | null,
  repo: string,
  options: { commit?: string; baseUrl?: string } = {},
): Promise<number> {
  if (!cache) return 0;
  const base = trimBase(options.baseUrl);
  const wanted = repo.replace(/^\/+|\/+$/g, '');
  const doomed: string[] = [];
  for (const entry of await cache.list()) {
    const parsed = parseKey(entry.key, base);
    if (parsed === null || parsed.repo !== wanted) continue;
    if (entry.kind === 'ref') {
      const value: CachedFile | null = await cache.get(entry.key).catch(() => null);
      if (options.commit === undefined || (value?.kind === 'ref' && value.commit === options.commit))
        doomed.push(entry.key);
    } else if (options.commit === undefined || parsed.revision === options.commit) {
      doomed.push(entry.key);
    }
  }
  for (const key of doomed) await cache.delete(key);
  return doomed.length;
}

/** Deletes every entry of the download cache (all repos, all base URLs). */
export async function clearHubCache(cache: DownloadCache | null): Promise<void> {
  await cache?.clear();
}
