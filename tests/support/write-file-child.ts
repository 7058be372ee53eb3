/**
 * Child process for the kill-mid-write test of writeFileAtomic: writes a large predictions-style
 * CSV as a stream; once the first chunk is on disk it says so on stdout and waits, mid-write, to
 * be killed (SIGKILL from the test). Arguments: the target path, the first chunk's size in rows.
 */
import { writeFileAtomic } from '../../src/engine/checkpoint/node-file';

const [path, rows] = process.argv.slice(2);

async function* predictions(): AsyncGenerator<string> {
  const lines = ['row,text,predicted_label,prob_pos,prob_neg\n'];
  for (let i = 0; i < Number(rows); i++) lines.push(`${i + 2},the new text number ${i},pos,0.9,0.1\n`);
  yield lines.join('');
  process.stdout.write('writing\n');
  // Keep the process alive (a pending promise alone would not) until the test kills it.
  setInterval(() => {}, 1 << 30);
  await new Promise(() => {});
}

await writeFileAtomic(path, predictions());
