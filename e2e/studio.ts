/** Shared e2e helpers: the typed test hook, and a page object for the shell. */
import { expect, type Page } from '@playwright/test';
import type { StudioState } from '../src/ui/store';

/** Reads a value from the store through `window.__studio` (never by scraping pixels). */
export async function studioState<T>(page: Page, pick: (state: StudioState) => T): Promise<T> {
  return page.evaluate((source) => {
    const state = window.__studio!.getState();
    return new Function('state', `return (${source})(state);`)(state);
  }, pick.toString()) as Promise<T>;
}

export class StudioShell {
  constructor(protected readonly page: Page) {}

  /** Opens the studio; tests pin the fast micro model unless `query` names another (`?model=`). */
  async open(query = ''): Promise<void> {
    const params = new URLSearchParams(query.replace(/^\?/, ''));
    if (!params.has('model')) params.set('model', 'micro-random');
    await this.page.goto(`/?${params}`);
    await expect(this.page.getByRole('heading', { name: 'FewShot Studio' })).toBeVisible();
  }

  badge() {
    return this.page.getByTestId('backend-badge');
  }

  async waitForEngine(): Promise<void> {
    await expect
      .poll(() => studioState(this.page, (s) => s.engineStatus), { timeout: 120_000 })
      .toMatch(/ready|error|crashed/);
  }

  async waitForSelfTest(): Promise<void> {
    await expect.poll(() => studioState(this.page, (s) => s.selfTestStatus), { timeout: 120_000 }).toBe('done');
  }
}

/** Page object for the studio's panels (tabs, data, training, playground, export). */
export class Studio extends StudioShell {
  async tab(name: 'model' | 'data' | 'train' | 'evaluate' | 'playground'): Promise<void> {
    await this.page.getByTestId(`tab-${name}`).click();
    await expect(this.page.getByTestId(`panel-${name}`)).toBeVisible();
  }

  async waitForModel(): Promise<void> {
    await expect.poll(() => studioState(this.page, (s) => s.modelStatus), { timeout: 120_000 }).toBe('ready');
  }

  /** Chooses a dataset file through the Data panel's file input. */
  async chooseDataFile(file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
    await this.tab('data');
    await this.page.getByTestId('data-file-input').setInputFiles(file);
  }

  /** Drags a dataset file onto the Data panel's drop zone (a real DataTransfer with a File). */
  async dropDataFile(file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
    await this.tab('data');
    const dataTransfer = await this.page.evaluateHandle(
      ({ name, mimeType, bytes }) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], name, { type: mimeType }));
        return transfer;
      },
      { name: file.name, mimeType: file.mimeType, bytes: [...file.buffer] },
    );
    await this.page.getByTestId('data-dropzone').dispatchEvent('dragover', { dataTransfer });
    await this.page.getByTestId('data-dropzone').dispatchEvent('drop', { dataTransfer });
  }

  async screenshot(name: string, outputPath: (name: string) => string): Promise<void> {
    await this.page.screenshot({ path: outputPath(`panel-${name}.png`), fullPage: true });
  }
}
