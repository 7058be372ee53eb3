/**
 * Child process for the kill-mid-write test: writes a folder with writeFolder and, once the first
 * file is really on disk, says so on stdout and waits to be killed (SIGKILL from the test).
 */
import { writeFile } from 'node:fs/promises';
import { writeFolder } from '../../src/engine/checkpoint/node-dir';

const [directory] = process.argv.slice(2);
const files = new Map([
  ['config.json', new TextEncoder().encode('{"new": true}\n')],
  ['model.safetensors', new Uint8Array(1 << 20).fill(7)],
]);
await writeFolder(directory, files, {
  writeFile: async (path, bytes) => {
    await writeFile(path, bytes);
    process.stdout.write('written\n');
    await new Promise(() => {}); // killed here
  },
});
